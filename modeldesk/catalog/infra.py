"""Which model does the internal work (scenario expansion, summarization, analysis).

The setting names a model; when that model is missing, deprecated, disabled or
has no key, the cheapest usable model stands in, so internal work keeps going.
Work that resolves its model logs that fallback as an error so the operator
learns why; a page that only shows the choice uses `choose_infra_model` and logs
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from modeldesk.catalog.availability import provider_has_key
from modeldesk.catalog.queries import selectable_models
from modeldesk.catalog.settings import infra_model_label, infra_setting_key
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider, SystemSetting
from modeldesk.errors import ModelNotFoundError
from modeldesk.llm import ProviderTarget, make_target

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InfraModelResolution:
    purpose: str
    model: LlmModel
    provider: LlmProvider
    configured: dict[str, Any] | None
    is_fallback: bool
    # Why the configured model was not used; None when it was.
    reason: str | None

    def target(self) -> ProviderTarget:
        """Where to call the model; raises a `ModeldeskError` when its key is unreadable."""
        return model_target(self.model, self.provider)


def model_target(model: LlmModel, provider: LlmProvider) -> ProviderTarget:
    """A model's call target from its catalogue rows."""
    return make_target(
        provider_name=provider.name,
        api_style=provider.api_style,
        model_id=model.model_id,
        base_url=provider.base_url,
        api_key_env=provider.api_key_env,
    )


def _price_rank(model: LlmModel) -> tuple[int, Decimal]:
    if model.cost_input_per_million is None or model.cost_output_per_million is None:
        return (1, Decimal(0))  # unpriced models come last: their real cost is unknown
    return (0, model.cost_input_per_million + model.cost_output_per_million)


def _why_unusable(
    configured: dict[str, Any] | None, candidates: list[tuple[LlmModel, LlmProvider]]
) -> tuple[tuple[LlmModel, LlmProvider] | None, str]:
    if not configured:
        return None, "no model is configured"
    name = infra_model_label(configured)
    for model, provider in candidates:
        if provider.name == configured.get("providerName") and model.model_id == configured.get(
            "modelId"
        ):
            if not provider_has_key(provider):
                return None, f"{name}: provider has no API key ({provider.api_key_env} is not set)"
            return (model, provider), ""
    return None, f"{name} is missing, deprecated or its provider is disabled"


def choose_infra_model(
    purpose: str,
    configured: dict[str, Any] | None,
    candidates: list[tuple[LlmModel, LlmProvider]],
) -> InfraModelResolution:
    """The decision alone, from what the caller already read: pages show it, work acts on it.

    `candidates` are the selectable models (`selectable_models`). Raises
    ModelNotFoundError when neither the configured model nor any stand-in is usable.
    """
    chosen, reason = _why_unusable(configured, candidates)
    if chosen is not None:
        model, provider = chosen
        return InfraModelResolution(purpose, model, provider, configured, False, None)
    usable = [(m, p) for m, p in candidates if provider_has_key(p)]
    if not usable:
        raise ModelNotFoundError(
            f"No model can do {purpose}: {reason}, and no active model has an API key configured."
        )
    model, provider = min(usable, key=lambda pair: _price_rank(pair[0]))
    return InfraModelResolution(purpose, model, provider, configured, True, reason)


async def resolve_infra_model(db: Database, purpose: str) -> InfraModelResolution:
    """The model internal work uses now; a fallback is logged as an error, as it is acted on."""
    key = infra_setting_key(purpose)
    async with db.session() as session:
        setting = await session.get(SystemSetting, key)
    configured = setting.value if setting is not None else None
    resolution = choose_infra_model(purpose, configured, await selectable_models(db))
    if resolution.is_fallback:
        logger.error(
            "infrastructure model for %s unusable (%s); falling back to %s/%s",
            purpose,
            resolution.reason,
            resolution.provider.name,
            resolution.model.model_id,
        )
    return resolution

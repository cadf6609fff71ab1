"""The reference's models for a catalogue provider: what `Add model` offers, and its prices.

Adding a model from the reference takes the model id the admin gives (it is
what the provider's API is called with) and fills the display name and every
price, tier included, from the reference model it matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modeldesk.catalog.inputs import ModelCreate
from modeldesk.catalog.queries import get_provider
from modeldesk.catalog.reference_prices import (
    ReferenceData,
    ReferenceModel,
    find_reference_model,
    load_reference,
    reference_models_of,
    reference_provider_of,
)
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.errors import ValidationError
from modeldesk.input_rules import clean_text, echoed


@dataclass(frozen=True)
class ProviderReference:
    """A provider, the reference provider it maps to, and the models listed there."""

    provider: LlmProvider
    reference_provider: str
    data: ReferenceData
    models: list[ReferenceModel]


async def provider_reference(
    db: Database, settings: Settings, provider_id: int
) -> ProviderReference:
    provider = await get_provider(db, provider_id)
    data = await load_reference(settings)
    name = reference_provider_of(provider)
    models = reference_models_of(data, name, datetime.now(UTC))
    return ProviderReference(provider, name, data, models)


async def reference_model_for(
    db: Database, settings: Settings, provider_id: int, model_id: str
) -> ReferenceModel:
    """The reference model `model_id` names at the provider; VALIDATION_ERROR when none
    is known or its prices cannot be held here."""
    provider = await get_provider(db, provider_id)
    data = await load_reference(settings)
    name = reference_provider_of(provider)
    clean_id = clean_text(model_id, "modelId")
    found = find_reference_model(data, name, clean_id, datetime.now(UTC))
    if found is None:
        raise ValidationError(
            f"The reference prices ({data.source} {data.version}) know no model "
            f"{echoed(clean_id)} at provider {echoed(name)}.",
            field="modelId",
        )
    if found.prices is None:
        raise ValidationError(
            f"The reference's prices for {found.provider_id}/{found.model_id} cannot be held "
            f"here: {found.problem}.",
            field="modelId",
        )
    return found


async def model_create_from_reference(
    db: Database,
    settings: Settings,
    *,
    provider_id: int,
    model_id: str,
    display_name: str | None = None,
    set_as_default: bool = False,
) -> ModelCreate:
    """A new model's input with the reference's name (unless one is given) and prices."""
    found = await reference_model_for(db, settings, provider_id, model_id)
    prices = found.prices
    assert prices is not None  # reference_model_for refuses unrepresentable prices
    values: dict[str, Any] = {
        "cost_input_per_million": prices.input_per_million,
        "cost_output_per_million": prices.output_per_million,
        "cost_cached_input_per_million": prices.cached_input_per_million,
        "cost_cache_write_per_million": prices.cache_write_per_million,
    }
    return ModelCreate.parse(
        provider_id=provider_id,
        model_id=model_id,
        display_name=display_name or found.name,
        set_as_default=set_as_default,
        long_context_tier=prices.long_context_tier,
        **values,
    )

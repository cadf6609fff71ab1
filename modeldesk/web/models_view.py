"""What the catalogue pages show: provider cards, and the models a picker offers.

Cards load in one query per table for any number of providers.
"""

from __future__ import annotations

from dataclasses import dataclass

from modeldesk.catalog import (
    base_url_changes,
    get_provider,
    list_providers,
    models_by_provider_ids,
    provider_has_key,
    selectable_models,
)
from modeldesk.db.session import Database
from modeldesk.db.tables import AuditEntry, LlmModel, LlmProvider
from modeldesk.enums import ModelStatus


@dataclass(frozen=True)
class ProviderCard:
    provider: LlmProvider
    models: list[LlmModel]
    has_key: bool
    # The latest change of its base URL (audited), shown on the card; None: never changed.
    base_url_change: AuditEntry | None = None

    @property
    def default_model(self) -> LlmModel | None:
        return next((model for model in self.models if model.is_default), None)

    @property
    def active_count(self) -> int:
        return sum(model.status == ModelStatus.ACTIVE.value for model in self.models)


async def provider_cards(db: Database) -> list[ProviderCard]:
    providers = await list_providers(db)
    ids = [provider.id for provider in providers]
    models = await models_by_provider_ids(db, ids)
    changes = await base_url_changes(db, ids)
    return [
        ProviderCard(p, models.get(p.id, []), provider_has_key(p), changes.get(p.id))
        for p in providers
    ]


async def provider_card(db: Database, provider_id: int) -> ProviderCard:
    provider = await get_provider(db, provider_id)
    models = await models_by_provider_ids(db, [provider_id])
    change = (await base_url_changes(db, [provider_id])).get(provider_id)
    return ProviderCard(provider, models.get(provider_id, []), provider_has_key(provider), change)


@dataclass(frozen=True)
class ProviderChoices:
    """One provider's models in a picker (run models, infrastructure models)."""

    provider: LlmProvider
    models: list[LlmModel]

    @property
    def has_default(self) -> bool:
        return any(model.is_default for model in self.models)

    @property
    def has_key(self) -> bool:
        return provider_has_key(self.provider)


def group_choices(candidates: list[tuple[LlmModel, LlmProvider]]) -> list[ProviderChoices]:
    """`selectable_models` rows grouped by provider, keeping their catalogue order."""
    grouped: dict[int, ProviderChoices] = {}
    for model, provider in candidates:
        grouped.setdefault(provider.id, ProviderChoices(provider, [])).models.append(model)
    return list(grouped.values())


async def selectable_choices(db: Database) -> list[ProviderChoices]:
    """Active models of enabled providers, grouped by provider, in catalogue order."""
    return group_choices(await selectable_models(db))

"""Batch functions behind the catalogue's DataLoaders (see `RequestContext.loader`).

Each answers every key of a batch with one query through the catalogue service,
so nested fields cost a fixed number of statements whatever the row count.
"""

from __future__ import annotations

from modeldesk import catalog
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmModelPriceVersion, LlmProvider
from modeldesk.errors import NotFoundError


async def load_providers(
    db: Database, provider_ids: list[int]
) -> list[LlmProvider | BaseException]:
    found = await catalog.providers_by_ids(db, provider_ids)
    return [found.get(pid) or NotFoundError(f"No provider with id {pid}.") for pid in provider_ids]


async def load_models_of_providers(db: Database, provider_ids: list[int]) -> list[list[LlmModel]]:
    grouped = await catalog.models_by_provider_ids(db, provider_ids)
    return [grouped.get(pid, []) for pid in provider_ids]


async def load_price_history(
    db: Database, model_ids: list[int]
) -> list[list[LlmModelPriceVersion]]:
    history = await catalog.price_history_by_model_ids(db, model_ids)
    return [history.get(mid, []) for mid in model_ids]

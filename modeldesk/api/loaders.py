"""Batch functions behind the catalogue's DataLoaders (see `RequestContext.loader`).

Each answers every key of a batch with one query through the catalogue service,
so nested fields cost a fixed number of statements whatever the row count.
The service answers a batch as a mapping; `each_found` and `each_list` turn it
into the one-answer-per-key list a DataLoader wants, the same way for every type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from modeldesk import catalog
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmModelPriceVersion, LlmProvider
from modeldesk.errors import NotFoundError

KeyT = TypeVar("KeyT")
RowT = TypeVar("RowT")


def each_found(
    keys: Sequence[KeyT], found: Mapping[KeyT, RowT], noun: str
) -> list[RowT | BaseException]:
    """One row per key, in order; a key with none is NOT_FOUND on its own field alone."""
    return [
        row if (row := found.get(key)) is not None else NotFoundError(f"No {noun} with id {key}.")
        for key in keys
    ]


def each_list(keys: Sequence[KeyT], grouped: Mapping[KeyT, list[RowT]]) -> list[list[RowT]]:
    """Each key's rows, in order; a key with none has an empty list."""
    return [grouped.get(key, []) for key in keys]


async def load_providers(
    db: Database, provider_ids: list[int]
) -> list[LlmProvider | BaseException]:
    return each_found(provider_ids, await catalog.providers_by_ids(db, provider_ids), "provider")


async def load_models_of_providers(db: Database, provider_ids: list[int]) -> list[list[LlmModel]]:
    return each_list(provider_ids, await catalog.models_by_provider_ids(db, provider_ids))


async def load_price_history(
    db: Database, model_ids: list[int]
) -> list[list[LlmModelPriceVersion]]:
    return each_list(model_ids, await catalog.price_history_by_model_ids(db, model_ids))

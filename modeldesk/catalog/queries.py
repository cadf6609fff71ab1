"""Catalogue reads, including the batched lookups DataLoaders need.

Every "by ids" function answers a whole batch with one query, so a nested
GraphQL field or a page listing many rows never turns into N+1 queries.
Each `find_*` answers None when nothing matches (the API's nullable lookups),
its `get_*` twin raises NOT_FOUND for callers that need the row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from modeldesk.catalog.availability import provider_has_key
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import ModelStatus
from modeldesk.errors import NotFoundError
from modeldesk.input_rules import echoed, is_db_id, is_storable_text


async def list_providers(db: Database) -> list[LlmProvider]:
    async with db.session() as session:
        return list(await session.scalars(select(LlmProvider).order_by(LlmProvider.id)))


async def find_provider(db: Database, provider_id: int) -> LlmProvider | None:
    if not is_db_id(provider_id):
        return None
    async with db.session() as session:
        return await session.get(LlmProvider, provider_id)


async def get_provider(db: Database, provider_id: int) -> LlmProvider:
    provider = await find_provider(db, provider_id)
    if provider is None:
        raise NotFoundError(f"No provider with id {provider_id}.")
    return provider


async def get_provider_by_name(db: Database, name: str) -> LlmProvider:
    async with db.session() as session:
        provider = await session.scalar(select(LlmProvider).where(LlmProvider.name == name))
    if provider is None:
        raise NotFoundError(f"No provider named {echoed(name)}.")
    return provider


async def providers_by_ids(db: Database, ids: Sequence[int]) -> dict[int, LlmProvider]:
    if not ids:
        return {}
    async with db.session() as session:
        rows = await session.scalars(select(LlmProvider).where(LlmProvider.id.in_(ids)))
        return {row.id: row for row in rows}


async def models_by_provider_ids(
    db: Database, provider_ids: Sequence[int]
) -> dict[int, list[LlmModel]]:
    grouped: dict[int, list[LlmModel]] = defaultdict(list)
    if not provider_ids:
        return grouped
    async with db.session() as session:
        rows = await session.scalars(
            select(LlmModel)
            .where(LlmModel.provider_id.in_(provider_ids))
            .order_by(LlmModel.provider_id, LlmModel.id)
        )
        for row in rows:
            grouped[row.provider_id].append(row)
    return grouped


async def models_by_ids(db: Database, ids: Sequence[int]) -> dict[int, LlmModel]:
    if not ids:
        return {}
    async with db.session() as session:
        rows = await session.scalars(select(LlmModel).where(LlmModel.id.in_(ids)))
        return {row.id: row for row in rows}


async def find_model(db: Database, model_id: int) -> LlmModel | None:
    if not is_db_id(model_id):
        return None
    async with db.session() as session:
        return await session.get(LlmModel, model_id)


async def get_model(db: Database, model_id: int) -> LlmModel:
    model = await find_model(db, model_id)
    if model is None:
        raise NotFoundError(f"No model with id {model_id}.")
    return model


async def find_model_by_identifier(
    db: Database, provider_name: str, model_id: str
) -> LlmModel | None:
    if not (is_storable_text(provider_name) and is_storable_text(model_id)):
        return None
    async with db.session() as session:
        model: LlmModel | None = await session.scalar(
            select(LlmModel)
            .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
            .where(LlmProvider.name == provider_name, LlmModel.model_id == model_id)
        )
    return model


async def get_model_by_identifier(db: Database, provider_name: str, model_id: str) -> LlmModel:
    model = await find_model_by_identifier(db, provider_name, model_id)
    if model is None:
        raise NotFoundError(f"No model {provider_name}/{model_id}.")
    return model


async def list_models(
    db: Database,
    *,
    provider_id: int | None = None,
    status: ModelStatus | None = None,
    available_only: bool = False,
) -> list[tuple[LlmModel, LlmProvider]]:
    """Models with their providers, filtered by provider and status.

    `available_only` keeps those whose key is set. The provider comes along
    because it was read anyway, and callers need it for availability.
    """
    query = select(LlmModel, LlmProvider).join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
    if provider_id is not None:
        query = query.where(LlmModel.provider_id == provider_id)
    if status is not None:
        query = query.where(LlmModel.status == status.value)
    async with db.session() as session:
        rows = (await session.execute(query.order_by(LlmModel.provider_id, LlmModel.id))).all()
    return [
        (model, provider)
        for model, provider in rows
        if not available_only or provider_has_key(provider)
    ]


async def selectable_models(db: Database) -> list[tuple[LlmModel, LlmProvider]]:
    """What run creation offers: active models of enabled providers, grouped by provider."""
    async with db.session() as session:
        rows = await session.execute(
            select(LlmModel, LlmProvider)
            .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
            .where(LlmModel.status == ModelStatus.ACTIVE.value, LlmProvider.is_enabled.is_(True))
            .order_by(LlmProvider.id, LlmModel.id)
        )
        return [(model, provider) for model, provider in rows.all()]

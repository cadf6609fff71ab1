"""Catalogue reads, including the batched lookups DataLoaders need.

Every "by ids" function answers a whole batch with one query, so a nested
GraphQL field or a page listing many rows never turns into N+1 queries.
Each `find_*` answers None when nothing matches (the API's nullable lookups),
its `get_*` twin raises NOT_FOUND for callers that need the row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from modeldesk.catalog.availability import provider_has_key
from modeldesk.db.reads import required, row_by_key, rows_by_ids, rows_grouped_by
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import ModelStatus
from modeldesk.input_rules import echoed, is_db_id, is_storable_text


async def list_providers(db: Database) -> list[LlmProvider]:
    async with db.session() as session:
        return list(await session.scalars(select(LlmProvider).order_by(LlmProvider.id)))


async def find_provider(db: Database, provider_id: int) -> LlmProvider | None:
    return await row_by_key(db, LlmProvider, provider_id) if is_db_id(provider_id) else None


async def get_provider(db: Database, provider_id: int) -> LlmProvider:
    return required(await find_provider(db, provider_id), f"No provider with id {provider_id}.")


async def get_provider_by_name(db: Database, name: str) -> LlmProvider:
    async with db.session() as session:
        provider = await session.scalar(select(LlmProvider).where(LlmProvider.name == name))
    return required(provider, f"No provider named {echoed(name)}.")


async def providers_by_ids(db: Database, ids: Sequence[int]) -> dict[int, LlmProvider]:
    return await rows_by_ids(db, LlmProvider, ids)


async def models_by_provider_ids(
    db: Database, provider_ids: Sequence[int]
) -> dict[int, list[LlmModel]]:
    return await rows_grouped_by(
        db, LlmModel.provider_id, provider_ids, select(LlmModel).order_by(LlmModel.id)
    )


async def models_by_ids(db: Database, ids: Sequence[int]) -> dict[int, LlmModel]:
    return await rows_by_ids(db, LlmModel, ids)


async def find_model(db: Database, model_id: int) -> LlmModel | None:
    return await row_by_key(db, LlmModel, model_id) if is_db_id(model_id) else None


async def get_model(db: Database, model_id: int) -> LlmModel:
    return required(await find_model(db, model_id), f"No model with id {model_id}.")


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
    return required(model, f"No model {provider_name}/{model_id}.")


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

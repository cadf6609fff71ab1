"""Reading catalogue rows back in the web tests, to check each action's effect in the database."""

from __future__ import annotations

from sqlalchemy import select

from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmModelPriceVersion, LlmProvider


async def find_model_row(db: Database, model_id: str) -> LlmModel | None:
    async with db.session() as session:
        return await session.scalar(select(LlmModel).where(LlmModel.model_id == model_id))


async def model_row(db: Database, model_id: str) -> LlmModel:
    row = await find_model_row(db, model_id)
    assert row is not None, model_id
    return row


async def provider_row(db: Database, name: str) -> LlmProvider:
    async with db.session() as session:
        row = await session.scalar(select(LlmProvider).where(LlmProvider.name == name))
    assert row is not None, name
    return row


async def price_versions(db: Database, model_pk: int) -> list[LlmModelPriceVersion]:
    async with db.session() as session:
        rows = await session.scalars(
            select(LlmModelPriceVersion)
            .where(LlmModelPriceVersion.model_id == model_pk)
            .order_by(LlmModelPriceVersion.effective_from)
        )
        return list(rows)

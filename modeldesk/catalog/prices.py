"""Reading a model's price history (the versions are opened by `db.price_versions`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select

from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModelPriceVersion


async def price_history_by_model_ids(
    db: Database, model_ids: Sequence[int]
) -> dict[int, list[LlmModelPriceVersion]]:
    """Every model's versions, newest first, in one query (for DataLoaders)."""
    history: dict[int, list[LlmModelPriceVersion]] = defaultdict(list)
    if not model_ids:
        return history
    async with db.session() as session:
        rows = await session.scalars(
            select(LlmModelPriceVersion)
            .where(LlmModelPriceVersion.model_id.in_(model_ids))
            .order_by(LlmModelPriceVersion.model_id, LlmModelPriceVersion.effective_from.desc())
        )
        for row in rows:
            history[row.model_id].append(row)
    return history

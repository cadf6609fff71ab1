"""Reading a model's price history (the versions are opened by `db.price_versions`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from modeldesk.db.reads import rows_grouped_by
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModelPriceVersion


async def price_history_by_model_ids(
    db: Database, model_ids: Sequence[int]
) -> dict[int, list[LlmModelPriceVersion]]:
    """Every model's versions, newest first, in one query (for DataLoaders)."""
    newest_first = select(LlmModelPriceVersion).order_by(LlmModelPriceVersion.effective_from.desc())
    return await rows_grouped_by(db, LlmModelPriceVersion.model_id, model_ids, newest_first)

"""Price versions: a price edit closes the current period and opens a new one.

Nothing is ever overwritten, so the price in force at any past moment can be
read back, and a run's recorded costs never drift when prices change. It lives
in `db` so the seed and the catalogue open versions the same way.
"""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.tables import PRICE_COLUMNS, LlmModel, LlmModelPriceVersion


async def open_price_version(session: AsyncSession, model: LlmModel) -> None:
    """Close the model's open price period (if any) and open one at the current prices.

    Both ends use the transaction's timestamp, so periods meet without gap or overlap.
    """
    now = func.now()
    await session.execute(
        update(LlmModelPriceVersion)
        .where(
            LlmModelPriceVersion.model_id == model.id,
            LlmModelPriceVersion.effective_until.is_(None),
        )
        .values(effective_until=now)
    )
    session.add(
        LlmModelPriceVersion(
            model_id=model.id,
            # Every price column, tier included: a version holds the whole price set.
            **{column: getattr(model, column) for column in PRICE_COLUMNS},
            effective_from=now,
        )
    )
    await session.flush()

"""The catalogue version and its change notification.

Every change bumps one counter and NOTIFYs on `CATALOG_CHANNEL`; PostgreSQL
delivers the notification at commit, so a listener never learns of a change
before it is visible, and a cache keyed on the version is never stale.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.session import Database
from modeldesk.db.tables import CatalogState

CATALOG_CHANNEL = "modeldesk_catalog"


async def bump_catalog_version(session: AsyncSession) -> int:
    version = await session.scalar(
        text("UPDATE catalog_state SET version = version + 1 WHERE id = 1 RETURNING version")
    )
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": CATALOG_CHANNEL, "payload": str(version)},
    )
    return int(version or 0)


async def current_catalog_version(db: Database) -> int:
    async with db.session() as session:
        version = await session.scalar(select(CatalogState.version).where(CatalogState.id == 1))
    return int(version or 0)

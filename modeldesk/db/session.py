"""Engine and sessions.

Services open their own unit of work through `Database.transaction()`, so a
caller (API resolver, UI handler, worker) cannot forget to commit, and every
integrity failure surfaces inside the service where it can become a typed error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from modeldesk.db.urls import asyncpg_dsn, sqlalchemy_url


class Database:
    """One engine and its session factory; create one per process."""

    def __init__(
        self, url: str, *, pool_size: int = 10, max_overflow: int | None = None, echo: bool = False
    ) -> None:
        """`max_overflow` (extra connections opened under load, closed after) defaults
        to `pool_size`; 0 makes `pool_size` a hard cap on the connections it opens."""
        self.url = asyncpg_dsn(url)
        # No pre-ping: it costs a round trip on every checkout (the probe path
        # makes several). A connection broken by a server restart is discarded
        # when it fails, and callers see a retryable error, not stale data.
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=pool_size if max_overflow is None else max_overflow,
            echo=echo,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing is committed."""
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on success and rolls back on any error."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


async def session_driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `session`'s transaction, for statements of 100k rows.

    asyncpg encodes and decodes arrays and rows in C; SQLAlchemy's parameter and
    row processing would spend seconds of event-loop time on a 100k-probe run.
    """
    outer = await session.connection()
    pooled = await outer.get_raw_connection()
    connection: asyncpg.Connection = pooled.driver_connection
    if not connection.is_in_transaction():
        # SQLAlchemy's asyncpg adapter sends BEGIN with the first statement it runs
        # itself; a statement sent straight to the driver before that would commit
        # on its own, outside the caller's transaction.
        await outer.exec_driver_sql("SELECT 1")
    return connection

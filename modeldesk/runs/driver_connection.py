"""A bare asyncpg connection from the engine's pool, for the probe step's hot statements.

Each step of a probe (claim, record, retry) is one SQL statement run as its
own implicit transaction: one round trip, where a SQLAlchemy transaction
costs three (BEGIN, the statement, COMMIT) and holds its row locks across the
two client turns in between, which on a busy worker is milliseconds. The
connection still comes from (and goes back to) the engine's pool, so a
process keeps one pool; SQLAlchemy's reset on return sends nothing when no
transaction was begun through it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]

from modeldesk.db.session import Database
from modeldesk.runs.db_guard import database_guard, is_database_unavailable, unavailable_error

logger = logging.getLogger(__name__)


@asynccontextmanager
async def driver_connection(db: Database) -> AsyncIterator[asyncpg.Connection]:
    """Yield a pooled asyncpg connection; a lost one is discarded and reported retryable."""
    async with database_guard(), db.engine.connect() as connection:
        pooled = await connection.get_raw_connection()
        driver: asyncpg.Connection = pooled.driver_connection
        try:
            yield driver
        except Exception as exc:
            # A server that went away while the connection idled can surface as
            # a protocol error on its next statement; a closed connection tells.
            if not (is_database_unavailable(exc) or driver.is_closed()):
                raise
            await connection.invalidate(exc)
            # Debug only: the worker reports an outage once, not per statement.
            logger.debug("database connection lost: %s: %s", type(exc).__name__, exc)
            raise unavailable_error(exc) from exc

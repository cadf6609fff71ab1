"""Telling "the database cannot serve us now" (retry later) from a bug.

A worker must never guess or fake a result when PostgreSQL is down: the job
fails as retryable and the queue runs it again later. Integrity and
programming errors are not connection problems and pass through unchanged.
This is the one place that decides which is which, for the probe step, the
queue, the API and the UI alike.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]

from modeldesk.errors import DatabaseUnavailableError

logger = logging.getLogger(__name__)

# SQLSTATE classes for "PostgreSQL cannot serve us now": connection exceptions,
# insufficient resources (too many clients, out of memory), operator intervention
# (shutdown, restart). Anything else from the database is a bug to look at.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
# asyncpg reports a connection (or pool) that is already gone as a plain
# InterfaceError with no SQLSTATE; these are its words for it. Other
# InterfaceErrors (wrong arguments, a busy connection) are bugs.
_GONE_CONNECTION_WORDS = (
    "connection is closed",
    "connection has been released back to the pool",
    "pool is closing",
    "pool is closed",
)


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or what it wraps (SQLAlchemy wraps asyncpg), means "try again later"."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailableError | OSError):
            return True  # asyncpg raises OSError itself when the server is unreachable
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if isinstance(current, asyncpg.InterfaceError) and any(
            words in str(current) for words in _GONE_CONNECTION_WORDS
        ):
            return True
        # SQLAlchemy's own verdict that the error broke the connection.
        if getattr(current, "connection_invalidated", False) is True:
            return True
        pending += [current.__cause__, getattr(current, "orig", None)]
    return False


def unavailable_error(exc: BaseException) -> DatabaseUnavailableError:
    """The retryable error to report for `exc`, a failure `is_database_unavailable` accepts."""
    return DatabaseUnavailableError(
        f"The database cannot be reached ({type(exc).__name__}); retry shortly."
    )


@asynccontextmanager
async def database_guard() -> AsyncIterator[None]:
    """Turn "PostgreSQL cannot serve us now" into the retryable `DatabaseUnavailableError`.

    Logged at debug level only: whoever retries (the worker, the API) reports
    the outage once, not once per statement.
    """
    try:
        yield
    except Exception as exc:
        if isinstance(exc, DatabaseUnavailableError) or not is_database_unavailable(exc):
            raise
        logger.debug("database unreachable: %s: %s", type(exc).__name__, exc)
        raise unavailable_error(exc) from exc

"""The worker's own asyncpg connections, for pgqueuer and the per-call gates, and
how to tell "the database cannot serve us now" (retry later) from a bug.

Admission runs before every provider call, so it is one statement on a plain
asyncpg pool: one round trip, with no transaction to open and close and no
pre-ping. The gate statements leave no session state (their locks end with
the statement), so connections go back to the pool without asyncpg's reset
query, which would be a second round trip per call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]

from modeldesk.errors import DatabaseUnavailableError

# SQLSTATE classes for "PostgreSQL cannot serve us now": connection exceptions,
# insufficient resources (too many clients, out of memory), operator intervention
# (shutdown, restart). Anything else from the database is a bug to look at.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


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
        pending += [current.__cause__, getattr(current, "orig", None)]
    return False


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset (see the module docstring)."""


async def open_gate_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max_size,
        reset=_keep_session,
    )
    return pool


@asynccontextmanager
async def unavailable_on_connection_loss() -> AsyncIterator[None]:
    """Turn "PostgreSQL cannot serve us now" into the retryable `DatabaseUnavailableError`."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, DatabaseUnavailableError) or not is_database_unavailable(exc):
            raise
        raise DatabaseUnavailableError(
            f"The database cannot serve the queue now ({type(exc).__name__}: {exc}); "
            "the job will be retried."
        ) from exc

"""The worker's own asyncpg connections, for pgqueuer and the per-call gates.

Admission runs before every provider call, so it is one statement on a plain
asyncpg pool: one round trip, with no transaction to open and close and no
pre-ping. The gate statements leave no session state (their locks end with
the statement), so connections go back to the pool without asyncpg's reset
query, which would be a second round trip per call.

The pool opens one connection at once (so an unreachable server fails the
worker's session at its start) but keeps no floor: asyncpg would restore a
floor in the background after a server crash, logging a traceback at every
failed attempt, while the worker is already reconnecting a new session.
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset (see the module docstring)."""


async def open_gate_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url,
        init_size=1,
        min_size=0,
        max_size=max_size,
        reset=_keep_session,
    )
    return pool

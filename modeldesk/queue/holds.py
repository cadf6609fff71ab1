"""Holding a provider back while one of its calls waits out a rate limit.

The hold lives in PostgreSQL (`provider_holds`) so every worker honours it (see
admission), and only ever moves later: a shorter backoff from another job
never cuts a longer hold short. Times are the database's clock, the same one
admission compares them with.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg  # type: ignore[import-untyped]

_HOLD = """
INSERT INTO provider_holds AS hold (provider_id, held_until, reason)
VALUES ($1, clock_timestamp() + make_interval(secs => $2), $3)
ON CONFLICT (provider_id) DO UPDATE SET
    held_until = GREATEST(hold.held_until, EXCLUDED.held_until),
    reason = CASE WHEN EXCLUDED.held_until >= hold.held_until
                  THEN EXCLUDED.reason ELSE hold.reason END
RETURNING held_until
"""


async def hold_provider(
    pool: asyncpg.Pool, provider_id: int, seconds: float, reason: str
) -> datetime:
    """Start no call of the provider for `seconds` from now; returns the hold's end."""
    held_until: datetime = await pool.fetchval(_HOLD, provider_id, float(seconds), reason)
    return held_until

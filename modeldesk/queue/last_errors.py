"""The provider's most recent failed call, kept where every process can read it.

The live provider view (`serve`) shows it, while the call failed in any worker,
so it is one row per provider in PostgreSQL, overwritten by each failure.
Times are the database's clock, like holds.
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]

from modeldesk.runs import CallFailure

_NOTE = """
INSERT INTO provider_last_errors AS last (provider_id, failed_at, code, message)
VALUES ($1, clock_timestamp(), $2, $3)
ON CONFLICT (provider_id) DO UPDATE SET
    failed_at = EXCLUDED.failed_at, code = EXCLUDED.code, message = EXCLUDED.message
"""


async def note_failed_call(pool: asyncpg.Pool, provider_id: int, failure: CallFailure) -> None:
    await pool.execute(_NOTE, provider_id, failure.code, failure.message)

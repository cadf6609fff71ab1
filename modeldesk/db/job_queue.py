"""Putting jobs on the probe queue inside the caller's own transaction.

A run, its probe rows and their jobs must appear together or not at all, so
jobs are inserted through the caller's SQLAlchemy session rather than through a
pgqueuer connection of their own. pgqueuer's table trigger NOTIFYs its channel
in the same transaction, and PostgreSQL delivers that at commit: workers wake
exactly when the jobs become visible, and never for a rolled-back run.

The SQL is pgqueuer 1.6's own enqueue statement (pgqueuer is pinned to 1.6), so
the rows look exactly like ones `Queries.enqueue` would write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from pgqueuer.adapters.persistence.qb import QueryQueueBuilder
from sqlalchemy.ext.asyncio import AsyncSession

PROBE_ENTRYPOINT_PREFIX = "probe."
EXPANSION_ENTRYPOINT = "expand_scenarios"

_QUERIES = QueryQueueBuilder()
_ENQUEUE_SQL = _QUERIES.build_enqueue_query()
_QUEUE_TABLE = _QUERIES.qualified.queue_table
_QUEUE_LOG_TABLE = _QUERIES.qualified.queue_table_log
_STATUS_TYPE = _QUERIES.qualified.queue_status_type

# Only jobs still waiting are discarded; a picked one is running and finishes
# (the probe step skips the call when its run was cancelled).
_DISCARD_SQL = f"""
WITH discarded AS (
    DELETE FROM {_QUEUE_TABLE}
    WHERE entrypoint = $1 AND status = 'queued' AND payload = ANY($2::bytea[])
    RETURNING id, entrypoint, priority
)
INSERT INTO {_QUEUE_LOG_TABLE} (job_id, status, entrypoint, priority)
SELECT id, 'deleted'::{_STATUS_TYPE}, entrypoint, priority FROM discarded
RETURNING job_id
"""


def probe_entrypoint(provider_name: str) -> str:
    """The entrypoint of a provider's probe jobs; its concurrency limit is the provider's."""
    return f"{PROBE_ENTRYPOINT_PREFIX}{provider_name}"


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """One canonical encoding, so equal payloads are equal bytes (see `discard_queued_jobs`)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def decode_payload(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        raise ValueError("the job has no payload")
    payload = json.loads(raw)
    if not isinstance(payload, dict):
        raise ValueError(f"a job payload must be a JSON object, not {type(payload).__name__}")
    return payload


async def enqueue_jobs(
    session: AsyncSession,
    entrypoint: str,
    payloads: Sequence[Mapping[str, Any]],
    *,
    delay_seconds: float = 0,
) -> None:
    """Insert one job per payload within `session`'s transaction; they run after commit."""
    if not payloads:
        return
    if delay_seconds < 0:
        raise ValueError("delay_seconds must be >= 0")
    count = len(payloads)
    connection = await session.connection()
    await connection.exec_driver_sql(
        _ENQUEUE_SQL,
        (
            [0] * count,
            [entrypoint] * count,
            [encode_payload(payload) for payload in payloads],
            [timedelta(seconds=delay_seconds)] * count,
            [None] * count,
            [None] * count,
        ),
    )


async def discard_queued_jobs(
    session: AsyncSession, entrypoint: str, payloads: Sequence[Mapping[str, Any]]
) -> int:
    """Delete the waiting jobs with these payloads (a cancelled run's); returns how many."""
    if not payloads:
        return 0
    connection = await session.connection()
    result = await connection.exec_driver_sql(
        _DISCARD_SQL, (entrypoint, [encode_payload(payload) for payload in payloads])
    )
    return len(result.all())

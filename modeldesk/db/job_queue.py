"""Putting jobs on the probe queue inside the caller's own transaction.

A run, its probe rows and their jobs must appear together or not at all, so
jobs are inserted through the caller's SQLAlchemy session rather than through a
pgqueuer connection of their own. pgqueuer's table trigger NOTIFYs its channel
in the same transaction, and PostgreSQL delivers that at commit: workers wake
exactly when the jobs become visible, and never for a rolled-back run.

The SQL is pgqueuer 1.6's own enqueue statement (pgqueuer is pinned to 1.6), so
the rows look exactly like ones `Queries.enqueue` would write.

Fair share between runs (SPEC 9.2) rides on pgqueuer's dequeue order,
`priority DESC, id ASC` within an entrypoint: `enqueue_in_turn` gives a run's
k-th job of a provider the priority `head - k`, where `head` is the priority
of that provider's next waiting job. A run queued behind another thus takes
every other free slot from its first job on (round robin between the runs,
ties broken by age), and a run alone is served in its own order. The
concurrency limits are untouched: they gate how many jobs are picked, not
which.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from pgqueuer.adapters.persistence.qb import QueryQueueBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.session import session_driver_connection
from modeldesk.db.sql_values import sql_value
from modeldesk.enums import ProbeState

PROBE_ENTRYPOINT_PREFIX = "probe."
EXPANSION_ENTRYPOINT = "expand_scenarios"

_QUERIES = QueryQueueBuilder()
_ENQUEUE_SQL = _QUERIES.build_enqueue_query()
_QUEUE_TABLE = _QUERIES.qualified.queue_table
_QUEUE_LOG_TABLE = _QUERIES.qualified.queue_table_log
_STATUS_TYPE = _QUERIES.qualified.queue_status_type

# The priority of the entrypoint's next waiting job (0 with none waiting): a new
# run's first job joins the round at that level. The (entrypoint, priority DESC,
# id) index of waiting jobs answers it from its first entry.
_HEAD_PRIORITY_SQL = f"""
SELECT coalesce(max(priority), 0) FROM {_QUEUE_TABLE}
WHERE entrypoint = $1 AND status = 'queued'
"""
# PostgreSQL's integer bounds; a queue never waiting empty for billions of jobs
# would otherwise overflow the priorities.
_LOWEST_PRIORITY = -(2**31)

# Waiting jobs with these payloads may run now (a resumed run's); with the
# payloads of those picked, these are the payloads that already have a job.
_WAKE_SQL = f"""
WITH woken AS (
    UPDATE {_QUEUE_TABLE} SET execute_after = now()
    WHERE entrypoint = $1 AND status = 'queued' AND payload = ANY($2::bytea[])
      AND execute_after > now()
    RETURNING payload
)
SELECT payload FROM woken
UNION
SELECT payload FROM {_QUEUE_TABLE}
WHERE entrypoint = $1 AND status IN ('queued', 'picked') AND payload = ANY($2::bytea[])
"""

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

# pgqueuer's enqueue statement taking probe ids, each payload built in SQL exactly
# as `encode_payload({"probe_id": id})` writes it.
_PROBE_PAYLOADS_SQL = (
    "ARRAY(SELECT convert_to('{\"probe_id\":' || p || '}', 'UTF8')"
    " FROM unnest($3::bigint[]) WITH ORDINALITY AS u(p, n) ORDER BY n)"
)
_ENQUEUE_PROBES_SQL = _ENQUEUE_SQL.replace("$3::bytea[]", _PROBE_PAYLOADS_SQL)
if _ENQUEUE_PROBES_SQL == _ENQUEUE_SQL:
    raise RuntimeError("pgqueuer's enqueue statement changed: payloads are no longer $3::bytea[]")

# Cancelling a whole run (SPEC 9.7: 100,000 probes in < 2 s) in one statement:
# its pending probes become CANCELLED and their waiting jobs are discarded. The
# payloads are rebuilt in SQL exactly as `encode_payload({"probe_id": id})` writes
# them, so no probe id crosses the wire. Unlike `discard_queued_jobs`, nothing is
# written to pgqueuer's log: the run records its cancellation, and 100,000 log
# rows would take most of the time budget (measured: over 2 s of 5.7).
_CANCEL_RUN_PROBES_SQL = f"""
WITH cancelled AS (
    UPDATE probes SET state = {sql_value(ProbeState.CANCELLED)}, finished_at = now()
    WHERE run_id = $1 AND state = {sql_value(ProbeState.PENDING)}
    RETURNING id
), discarded AS (
    DELETE FROM {_QUEUE_TABLE} AS job
    USING (SELECT convert_to('{{"probe_id":' || id || '}}', 'UTF8') AS payload FROM cancelled) AS c
    WHERE job.status = 'queued' AND job.entrypoint LIKE '{PROBE_ENTRYPOINT_PREFIX}%'
      AND job.payload = c.payload
    RETURNING 1
)
SELECT (SELECT count(*) FROM cancelled), (SELECT count(*) FROM discarded)
"""


# pgqueuer's own statement for a job that succeeded (`Queries.log_jobs`: delete the
# row, log it 'successful'), as CTEs a caller's statement can end with, so the
# work a job did and the job's end commit together (see `finish_job_ctes`).
_FINISH_JOB_CTES = f"""
job_finished AS (
    DELETE FROM {_QUEUE_TABLE}
    WHERE id = {{job_id}} AND {{condition}}
    RETURNING id, entrypoint, priority
), job_logged AS (
    INSERT INTO {_QUEUE_LOG_TABLE} (job_id, status, entrypoint, priority)
    SELECT id, 'successful'::{_STATUS_TYPE}, entrypoint, priority FROM job_finished
)"""


def finish_job_ctes(job_id: str, condition: str = "true") -> str:
    """CTEs `job_finished` (the row deleted) and `job_logged` ending job `job_id` (an SQL
    expression) as successful when `condition` holds; its slot is free at commit.

    The trigger on pgqueuer's table NOTIFYs every worker at that commit, as for
    pgqueuer's own log statement, whose later run for the same job then finds
    no row and writes nothing: the job is logged once.
    """
    return _FINISH_JOB_CTES.format(job_id=job_id, condition=condition)


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
    priorities: Sequence[int] | None = None,
) -> None:
    """Insert one job per payload within `session`'s transaction; they run after commit.

    `priorities` (one per payload, default 0) order the entrypoint's waiting jobs.
    """
    if not payloads:
        return
    if delay_seconds < 0:
        raise ValueError("delay_seconds must be >= 0")
    count = len(payloads)
    if priorities is not None and len(priorities) != count:
        raise ValueError("give one priority per payload")
    await _enqueue(
        session,
        _ENQUEUE_SQL,
        entrypoint,
        [encode_payload(payload) for payload in payloads],
        list(priorities) if priorities is not None else [0] * count,
        timedelta(seconds=delay_seconds),
    )


async def _enqueue(
    session: AsyncSession,
    statement: str,
    entrypoint: str,
    payloads: Sequence[bytes] | Sequence[int],
    priorities: list[int],
    delay: timedelta,
) -> None:
    """Run an enqueue statement on `session`'s transaction's driver connection."""
    count = len(payloads)
    await (await session_driver_connection(session)).execute(
        statement,
        priorities,
        [entrypoint] * count,
        payloads,
        [delay] * count,
        [None] * count,
        [None] * count,
    )


async def enqueue_in_turn(
    session: AsyncSession, entrypoint: str, payloads: Sequence[Mapping[str, Any]]
) -> None:
    """Queue a run's jobs of one entrypoint, in order, taking turns with those waiting.

    The first job gets the priority of the entrypoint's next waiting job, and
    each later one a step lower (see the module's docstring).
    """
    if not payloads:
        return
    await enqueue_jobs(
        session,
        entrypoint,
        payloads,
        priorities=await _turn_priorities(session, entrypoint, len(payloads)),
    )


async def enqueue_probes_in_turn(
    session: AsyncSession, entrypoint: str, probe_ids: Sequence[int]
) -> None:
    """`enqueue_in_turn` for probes' jobs, their payloads built in SQL from the ids.

    A 100k-probe run's payloads are thus never encoded one by one in Python,
    on the event loop (SPEC 9.7).
    """
    if not probe_ids:
        return
    priorities = await _turn_priorities(session, entrypoint, len(probe_ids))
    await _enqueue(session, _ENQUEUE_PROBES_SQL, entrypoint, probe_ids, priorities, timedelta())


async def _turn_priorities(session: AsyncSession, entrypoint: str, count: int) -> list[int]:
    """Priorities from the entrypoint's head down, one per job (see the module's docstring)."""
    connection = await session.connection()
    result = await connection.exec_driver_sql(_HEAD_PRIORITY_SQL, (entrypoint,))
    head = max(int(result.scalar_one()), _LOWEST_PRIORITY + count)
    return list(range(head, head - count, -1))


async def wake_jobs(
    session: AsyncSession, entrypoint: str, payloads: Sequence[Mapping[str, Any]]
) -> set[bytes]:
    """Make the waiting jobs with these payloads due now; returns the payloads that have a job.

    A payload with no job returned is free to be queued again, without ever
    giving one probe two jobs.
    """
    if not payloads:
        return set()
    connection = await session.connection()
    result = await connection.exec_driver_sql(
        _WAKE_SQL, (entrypoint, [encode_payload(payload) for payload in payloads])
    )
    return {bytes(row[0]) for row in result}


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


async def cancel_pending_probes(session: AsyncSession, run_id: int) -> tuple[int, int]:
    """Cancel the run's pending probes and discard their waiting jobs, in the caller's transaction.

    Returns (probes cancelled, jobs discarded). A job already picked is left to
    find its probe cancelled and skip the call.
    """
    connection = await session.connection()
    # The planner cannot know how many probes the UPDATE will return; guessing few,
    # it may scan the queue once per cancelled probe (minutes at 100k). A hash
    # join is linear whatever the count, so the nested loop is ruled out here.
    await connection.exec_driver_sql("SET LOCAL enable_nestloop = off")
    result = await connection.exec_driver_sql(_CANCEL_RUN_PROBES_SQL, (run_id,))
    await connection.exec_driver_sql("SET LOCAL enable_nestloop = on")
    counts: Sequence[Any] = result.one()
    return int(counts[0]), int(counts[1])

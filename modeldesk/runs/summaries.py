"""Judged summaries of a run's transcripts: queued after each successful probe, recorded here.

`after_probe_recorded` runs after a probe's outcome is recorded
(`execute_probe`). For a successful probe of a run with `summarize`,
`summary_queue.queue_summary` resolves the summarization model (with its
fallback, `resolve_infra_model`) and inserts the summary row and its job in
one transaction. The job waits in that model's provider's `probe.<name>`
queue, so a judge call is one of the provider's parallel calls like any probe
(SPEC 9.5: the same admission, limits and holds). Inserting ON CONFLICT DO
NOTHING makes the hook safe to repeat: a probe job delivered again after a
crash queues a summary the first delivery missed, and never a second one.

A capped run's judge call holds its expected cost on the run
(`runs.reserved_cost`) from `reserve_summary_call` until the attempt is
recorded or the summary leaves RUNNING without a call (`_unfinished_moved`).
Only a RUNNING summary holds a reservation, and whatever ends one (or sends
it back to PENDING) gives the held amount back in the same transaction, so
once a run's judging is done its `reserved_cost` holds nothing of it.

Each judge call's cost is recorded by `record_summary_attempt`, in the same
statement that adds it to the run's `spent_cost`: running totals that are to
include infrastructure cost belong in that transaction. After a summary ends,
`analysis_queue.summary_recorded` queues the run's analysis once all are done.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.job_queue import probe_entrypoint, wake_jobs
from modeldesk.db.session import Database
from modeldesk.db.sql_values import sql_list, sql_value
from modeldesk.enums import (
    UNFINISHED_INFRA_WORK_STATUSES,
    InfraWorkStatus,
    RunStatus,
    TranscriptStatus,
)
from modeldesk.llm import CostSnapshot, RetryState
from modeldesk.runs.analysis_queue import summary_recorded
from modeldesk.runs.summary_queue import SUMMARY_PAYLOAD_KEY, queue_summary

logger = logging.getLogger(__name__)

_PENDING = sql_value(InfraWorkStatus.PENDING)
_RUNNING = sql_value(InfraWorkStatus.RUNNING)
_FINISHED = (InfraWorkStatus.COMPLETED, InfraWorkStatus.FAILED)

# The probe's transcript in a summarizing run, and whether it still needs a
# summary: one round trip that finds nothing for the other runs.
_PROBE_OUTCOME = f"""
SELECT t.id, t.run_id,
       t.status = {sql_value(TranscriptStatus.SUCCEEDED)} AND NOT EXISTS (
           SELECT 1 FROM transcript_summaries s WHERE s.transcript_id = t.id) AS needs_summary
FROM transcripts t JOIN runs r ON r.id = t.run_id
WHERE t.probe_id = :probe_id AND r.summarize
"""


async def after_probe_recorded(db: Database, probe_id: int) -> None:
    """The probe's outcome is recorded: judge its answer, or analyse its finished run.

    Safe to repeat. Does nothing (one query) for a run that does not summarize.
    """
    async with db.session() as session:
        found = (await session.execute(text(_PROBE_OUTCOME), {"probe_id": probe_id})).first()
    if found is None:
        return
    transcript_id, run_id, needs_summary = found
    if needs_summary:
        await queue_summary(db, transcript_id, run_id)
    await summary_recorded(db, run_id)


@dataclass(frozen=True)
class SummaryCall:
    """A claimed summary's call: its inputs, counters and the run's cap."""

    transcript_id: int
    run_id: int
    judge_model_id: int
    scenario: str
    answer: str
    rubric: str | None
    preamble: str | None
    malformed_answers: int
    retry_state: RetryState
    max_cost: Decimal | None

    @property
    def label(self) -> str:
        return f"summary of transcript {self.transcript_id} (run {self.run_id})"


@dataclass(frozen=True)
class SummaryWaits:
    """The summary needs no call now; `run_status` says why (PAUSED: later)."""

    run_id: int
    run_status: str
    already: str | None  # the summary's final status when it was finished before


_CLAIM = """
SELECT s.status, s.run_id, s.judge_model_id, s.malformed_answers,
       s.rate_limit_retries, s.transient_retries,
       r.status AS run_status, r.max_cost, t.response, sc.text AS scenario,
       d.rubric, d.preamble
FROM transcript_summaries s
JOIN runs r ON r.id = s.run_id
JOIN transcripts t ON t.id = s.transcript_id
JOIN scenarios sc ON sc.id = t.scenario_id
JOIN definitions d ON d.id = r.definition_id
WHERE s.transcript_id = :id
FOR UPDATE OF s
"""
_STATUS_SET = "UPDATE transcript_summaries SET status = :status WHERE transcript_id = :id"


async def claim_summary(db: Database, transcript_id: int) -> SummaryCall | SummaryWaits | None:
    """Mark the summary RUNNING and read its call; None for an unknown summary."""
    async with db.transaction() as session:
        row = (await session.execute(text(_CLAIM), {"id": transcript_id})).mappings().first()
        if row is None:
            return None
        if row["status"] in _FINISHED:
            return SummaryWaits(row["run_id"], row["run_status"], row["status"])
        if row["run_status"] == RunStatus.PAUSED and row["status"] == InfraWorkStatus.RUNNING:
            # A delivery interrupted mid-call left it RUNNING: no call is in flight
            # now, so its hold goes back, and it waits as PENDING for the resume
            # to wake it (`wake_summary_jobs`).
            await session.execute(text(_RELEASE), {"id": transcript_id})
            await session.execute(
                text(_STATUS_SET), {"id": transcript_id, "status": InfraWorkStatus.PENDING.value}
            )
        # A paused run's summaries wait for the resume; a cancelled run spends nothing
        # more. Every other status (a finished run's included) lets its summaries run.
        if row["run_status"] in (RunStatus.PAUSED, RunStatus.CANCELLED):
            return SummaryWaits(row["run_id"], row["run_status"], None)
        await session.execute(
            text(_STATUS_SET), {"id": transcript_id, "status": InfraWorkStatus.RUNNING.value}
        )
    return SummaryCall(
        transcript_id=transcript_id,
        run_id=row["run_id"],
        judge_model_id=row["judge_model_id"],
        scenario=row["scenario"],
        answer=row["response"] or "",
        rubric=row["rubric"],
        preamble=row["preamble"],
        malformed_answers=row["malformed_answers"],
        retry_state=RetryState(row["rate_limit_retries"], row["transient_retries"]),
        max_cost=row["max_cost"],
    )


# The run's cap holds the judge's expected cost like a probe's call (`budget`);
# a reservation left by an interrupted delivery of the same summary is replaced.
# Only a RUNNING summary may hold one: a summary another delivery has ended
# meanwhile would keep it for ever, as nothing releases an ended summary's.
_RESERVE = f"""
WITH old AS (
    SELECT coalesce(reserved_cost, 0) AS held FROM transcript_summaries
    WHERE transcript_id = :id AND status = {_RUNNING} FOR UPDATE
), run AS (
    UPDATE runs r SET
        reserved_cost = r.reserved_cost - old.held + CAST(:expected AS numeric)
    FROM old
    WHERE r.id = :run_id
      AND r.spent_cost + r.reserved_cost - old.held + CAST(:expected AS numeric) <= r.max_cost
    RETURNING r.id
), held AS (
    UPDATE transcript_summaries SET reserved_cost = CAST(:expected AS numeric)
    WHERE transcript_id = :id AND EXISTS (SELECT 1 FROM run)
)
SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM old) THEN 'ended'
            WHEN EXISTS (SELECT 1 FROM run) THEN 'held'
            ELSE 'over_cap' END
"""

# A summary leaving RUNNING without a call recorded gives its reservation back.
# The summary's UPDATE reads `old`, so `old` locks the row first. (An UPDATE
# that did not read it would run first, and `old`, run after it, would skip
# the row the statement itself had updated: nothing was given back.)
_RELEASE = """
WITH old AS (
    SELECT transcript_id, run_id, reserved_cost FROM transcript_summaries
    WHERE transcript_id = :id AND reserved_cost IS NOT NULL FOR UPDATE
), released AS (
    UPDATE runs r SET reserved_cost = r.reserved_cost - old.reserved_cost
    FROM old WHERE r.id = old.run_id
)
UPDATE transcript_summaries s SET reserved_cost = NULL
FROM old WHERE s.transcript_id = old.transcript_id
"""


Reservation = Literal["held", "over_cap", "ended"]


async def reserve_summary_call(db: Database, call: SummaryCall, expected: Decimal) -> Reservation:
    """Hold the call's expected cost on the capped run.

    `over_cap` when it would pass the cap, `ended` when the summary is no
    longer RUNNING (another delivery ended it): then nothing is held.
    """
    async with db.transaction() as session:
        outcome: Reservation = await session.scalar(
            text(_RESERVE),
            {"run_id": call.run_id, "id": call.transcript_id, "expected": expected},
        )
    return outcome


# Every call's cost is counted, a malformed answer's included: the provider
# charged for it. The reservation is released with it, in one statement.
_RECORD_CALL = f"""
WITH old AS (
    SELECT transcript_id, reserved_cost FROM transcript_summaries
    WHERE transcript_id = :id AND status = {_RUNNING}
    FOR UPDATE
), summary AS (
    UPDATE transcript_summaries s SET
        status = CAST(:status AS text),
        score = coalesce(CAST(:score AS numeric), s.score),
        summary = coalesce(CAST(:summary AS text), s.summary),
        error_code = CAST(:error_code AS text),
        error_message = CAST(:error_message AS text),
        malformed_answers = CAST(:malformed_answers AS integer),
        rate_limit_retries = CAST(:rate_limit_retries AS integer),
        transient_retries = CAST(:transient_retries AS integer),
        input_tokens = s.input_tokens + CAST(:input_tokens AS integer),
        output_tokens = s.output_tokens + CAST(:output_tokens AS integer),
        estimated_cost = s.estimated_cost + CAST(:cost AS numeric),
        cost_snapshot = coalesce(CAST(:snapshot AS jsonb), s.cost_snapshot),
        unpriced = s.unpriced OR CAST(:unpriced AS boolean),
        reserved_cost = NULL,
        finished_at = CASE WHEN CAST(:status AS text) IN ({sql_list(_FINISHED)})
                           THEN now() END
    FROM old
    WHERE s.transcript_id = old.transcript_id
    RETURNING s.run_id, old.reserved_cost
)
UPDATE runs r SET
    spent_cost = r.spent_cost + CAST(:cost AS numeric),
    reserved_cost = r.reserved_cost - coalesce(summary.reserved_cost, 0)
FROM summary WHERE r.id = summary.run_id
RETURNING r.id
"""


@dataclass(frozen=True)
class SummaryResult:
    """What one attempt ends in; `status` PENDING means another attempt follows."""

    status: InfraWorkStatus
    score: float | None = None
    summary: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    malformed_answers: int = 0
    retry_state: RetryState = field(default_factory=RetryState)


async def record_summary_attempt(
    db: Database, call: SummaryCall, result: SummaryResult, snapshot: CostSnapshot | None
) -> bool:
    """Record the attempt and its cost; False when the summary was no longer RUNNING."""
    params: dict[str, Any] = {
        "id": call.transcript_id,
        "status": result.status.value,
        "score": result.score,
        "summary": result.summary,
        "error_code": result.error_code,
        "error_message": result.error_message,
        "malformed_answers": result.malformed_answers,
        "rate_limit_retries": result.retry_state.rate_limit_retries,
        "transient_retries": result.retry_state.transient_retries,
        "input_tokens": snapshot.input_tokens if snapshot else 0,
        "output_tokens": snapshot.output_tokens if snapshot else 0,
        "cost": snapshot.cost if snapshot else Decimal(0),
        "snapshot": json.dumps(snapshot.to_json()) if snapshot else None,
        "unpriced": snapshot.unpriced if snapshot else False,
    }
    async with db.transaction() as session:
        moved = await session.scalar(text(_RECORD_CALL), params)
    return moved is not None


async def _unfinished_moved(
    db: Database, transcript_id: int, change: str, returning: str, **params: Any
) -> Any:
    """Apply `change` (the SET list) to the unfinished summary, its reservation given
    back first; returns the `returning` column, None when the summary had ended."""
    statement = (
        f"UPDATE transcript_summaries SET {change}"
        f" WHERE transcript_id = :id AND status IN ({sql_list(UNFINISHED_INFRA_WORK_STATUSES)})"
        f" RETURNING {returning}"
    )
    async with db.transaction() as session:
        await session.execute(text(_RELEASE), {"id": transcript_id})
        return await session.scalar(text(statement), {"id": transcript_id, **params})


async def fail_waiting_summary(
    db: Database, transcript_id: int, code: str, message: str
) -> int | None:
    """End a summary that will not be called; returns its run's id, None if it had ended."""
    run_id: int | None = await _unfinished_moved(
        db,
        transcript_id,
        f"status = {sql_value(InfraWorkStatus.FAILED)}, error_code = :code,"
        " error_message = :message, finished_at = now()",
        "run_id",
        code=code,
        message=message,
    )
    return run_id


async def count_summary_internal_error(db: Database, transcript_id: int) -> int | None:
    """Count a bug that escaped the summary step; None when the summary is finished."""
    count: int | None = await _unfinished_moved(
        db,
        transcript_id,
        f"internal_errors = internal_errors + 1, status = {_PENDING}",
        "internal_errors",
    )
    return count


_WAITING_SUMMARIES = f"""
SELECT s.transcript_id, p.name FROM transcript_summaries s
JOIN llm_models m ON m.id = s.judge_model_id
JOIN llm_providers p ON p.id = m.provider_id
WHERE s.run_id = :run_id AND s.status = {_PENDING}
"""


async def wake_summary_jobs(session: AsyncSession, run_id: int) -> int:
    """Make the run's waiting summary jobs due now (a resumed run's); returns how many."""
    rows = (await session.execute(text(_WAITING_SUMMARIES), {"run_id": run_id})).all()
    by_entrypoint: dict[str, list[dict[str, int]]] = defaultdict(list)
    for transcript_id, provider_name in rows:
        by_entrypoint[probe_entrypoint(provider_name)].append({SUMMARY_PAYLOAD_KEY: transcript_id})
    for entrypoint, payloads in by_entrypoint.items():
        await wake_jobs(session, entrypoint, payloads)
    return len(rows)

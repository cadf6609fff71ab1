"""Pausing, resuming and retrying a run's failed probes (SPEC 9.2); admins only.

- Pause: the run becomes PAUSED and its waiting jobs leave the queue, so they
  hold no provider slot and the dequeue never wades through them. A job
  picked at that moment finds the run paused when it claims its probe and
  comes back later (`call_gate`); calls already in flight finish and are
  recorded, and the run may still finish by them.
- Resume: the run is active again and every waiting probe gets a job that is
  due now, taking turns with the runs already queued; one still in the queue
  keeps it (`probe_jobs.requeue_probe_jobs`), so no probe gets two.
- Retry: every FAILED probe whose failure was retryable (rate limits,
  timeouts, 5xx, an unreachable database) goes back to PENDING with its retry
  counters at zero and gets a job, so it runs under the same limits and
  backoff as a first attempt. Its FAILED transcript is removed, so the
  unique (run, scenario, model) transcript is written anew by the next
  outcome; the failure itself stays in `probe_attempts`. The run's failed
  count drops by as many and it is RUNNING again. Refused while the run is
  still running or paused; allowed after it completed, failed, was cancelled
  or stopped by its budget.

Probe rows are locked before the run row, as everywhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth import Principal
from modeldesk.db.reads import rows_grouped_by
from modeldesk.db.run_tables import Probe, ProbeAttempt, Run, Transcript
from modeldesk.db.session import Database
from modeldesk.enums import ACTIVE_RUN_STATUSES, UNFINISHED_RUN_STATUSES, ProbeState, RunStatus
from modeldesk.errors import ConflictError, NotFoundError
from modeldesk.runs.probe_jobs import discard_probe_jobs, requeue_probe_jobs
from modeldesk.runs.summaries import wake_summary_jobs

logger = logging.getLogger(__name__)


async def run_status(session: AsyncSession, run_id: int) -> str:
    """The run's status as the transaction first sees it; NOT_FOUND for an unknown run."""
    status = await session.scalar(select(Run.status).where(Run.id == run_id))
    if status is None:
        raise NotFoundError(f"No run with id {run_id}.")
    return status


async def run_row(session: AsyncSession, run_id: int) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"No run with id {run_id}.")
    return run


async def set_run_status(
    session: AsyncSession, run_id: int, allowed: Sequence[str], **values: object
) -> Run | None:
    """Move the run on if its status is still one of `allowed` (re-checked under its lock)."""
    statement = (
        update(Run).where(Run.id == run_id, Run.status.in_(allowed)).values(**values).returning(Run)
    )
    return (await session.scalars(statement)).one_or_none()


async def _switch_status(
    session: AsyncSession,
    run_id: int,
    *,
    already: Sequence[str],
    allowed: Sequence[str],
    action: str,
    **values: object,
) -> tuple[Run, bool]:
    """The run moved on and True, if its status was one of `allowed`; as it was and False,
    if it was one of `already`; `ConflictError` otherwise (it has finished)."""
    status = await run_status(session, run_id)
    if status in already:
        return await run_row(session, run_id), False
    run = await set_run_status(session, run_id, allowed, **values)
    if run is None:  # finished, possibly a moment ago: say how, as of now
        status = await run_status(session, run_id)
        raise ConflictError(f"Run {run_id} has already finished ({status}); nothing to {action}.")
    return run, True


async def _pending_probes(session: AsyncSession, run_id: int) -> list[tuple[int, int]]:
    rows = await session.execute(
        select(Probe.id, Probe.model_id)
        .where(Probe.run_id == run_id, Probe.state == ProbeState.PENDING)
        .order_by(Probe.id)
    )
    return [(probe_id, model_id) for probe_id, model_id in rows]


async def pause_run(db: Database, actor: Principal, run_id: int) -> Run:
    """Start no new call of the run until it is resumed; pausing a paused run is a no-op.

    Raises `ConflictError` for a run that has already finished.
    """
    actor.require_admin("pausing a run")
    async with db.transaction() as session:
        run, changed = await _switch_status(
            session,
            run_id,
            already=[RunStatus.PAUSED],
            allowed=ACTIVE_RUN_STATUSES,
            action="pause",
            status=RunStatus.PAUSED,
        )
        if not changed:
            return run
        discarded = await discard_probe_jobs(session, await _pending_probes(session, run_id))
    logger.info("run %s paused by %s; %d queued jobs taken off", run_id, actor.name, discarded)
    return run


async def resume_run(db: Database, actor: Principal, run_id: int) -> Run:
    """Let a paused run start calls again; resuming an active run is a no-op.

    Raises `ConflictError` for a run that has already finished.
    """
    actor.require_admin("resuming a run")
    # Back to where it was: RUNNING once any call had started.
    resumed = case(
        (Run.started_at.is_(None), RunStatus.PENDING.value), else_=RunStatus.RUNNING.value
    )
    async with db.transaction() as session:
        run, changed = await _switch_status(
            session,
            run_id,
            already=ACTIVE_RUN_STATUSES,
            allowed=[RunStatus.PAUSED],
            action="resume",
            status=resumed,
        )
        if not changed:
            return run
        queued = await requeue_probe_jobs(session, await _pending_probes(session, run_id))
        await wake_summary_jobs(session, run_id)  # judging waits with the run (SPEC 9.5)
    logger.info("run %s resumed by %s; %d jobs queued again", run_id, actor.name, queued)
    return run


async def retry_failed_probes(db: Database, actor: Principal, run_id: int) -> Run:
    """Queue again every failed probe of a finished run whose failure was retryable.

    Returns the run, RUNNING again; unchanged when no failure was retryable.
    Raises `ConflictError` while the run is still running or paused.
    """
    actor.require_admin("retrying failed probes")
    async with db.transaction() as session:
        status = await run_status(session, run_id)
        if status in UNFINISHED_RUN_STATUSES:
            raise ConflictError(
                f"Run {run_id} is still {status.lower()}; retry its failed probes once it has "
                "finished, or cancel it first."
            )
        retried = (
            await session.execute(
                update(Probe)
                .where(
                    Probe.run_id == run_id,
                    Probe.state == ProbeState.FAILED,
                    Probe.retryable.is_(True),
                )
                .values(
                    state=ProbeState.PENDING,
                    finished_at=None,
                    error_code=None,
                    error_message=None,
                    retryable=None,
                    rate_limit_retries=0,
                    transient_retries=0,
                    internal_errors=0,
                )
                .returning(Probe.id, Probe.model_id)
            )
        ).all()
        if not retried:
            logger.info("run %s: no retryable failure to retry", run_id)
            return await run_row(session, run_id)
        probes = sorted((probe_id, model_id) for probe_id, model_id in retried)
        await session.execute(
            delete(Transcript).where(Transcript.probe_id.in_([probe_id for probe_id, _ in probes]))
        )
        run = await set_run_status(
            session,
            run_id,
            [status],
            status=RunStatus.RUNNING,
            finished_at=None,
            failed=Run.failed - len(probes),
        )
        if run is None:
            raise ConflictError(f"Run {run_id} changed while its probes were being retried.")
        await requeue_probe_jobs(session, probes)
    logger.info("run %s: %d failed probes retried by %s", run_id, len(probes), actor.name)
    return run


async def retryable_failure_counts(db: Database, run_ids: Sequence[int]) -> dict[int, int]:
    """How many failed probes `retry_failed_probes` would queue again, per run."""
    if not run_ids:
        return {}
    async with db.session() as session:
        rows = await session.execute(
            select(Probe.run_id, func.count())
            .where(
                Probe.run_id.in_(run_ids),
                Probe.state == ProbeState.FAILED,
                Probe.retryable.is_(True),
            )
            .group_by(Probe.run_id)
        )
        counts = dict.fromkeys(run_ids, 0)
        counts.update({run_id: count for run_id, count in rows.all()})
        return counts


async def attempts_by_probe_ids(
    db: Database, probe_ids: Sequence[int]
) -> dict[int, list[ProbeAttempt]]:
    """Each probe's failed calls, oldest first (a transcript's `attempts`)."""
    oldest_first = select(ProbeAttempt).order_by(ProbeAttempt.id)
    return await rows_grouped_by(db, ProbeAttempt.probe_id, probe_ids, oldest_first)

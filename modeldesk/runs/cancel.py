"""Cancelling a run: no new call starts once it returns.

Waiting probes become CANCELLED and their queued jobs are discarded; a job
already picked finds its probe cancelled and skips the call. A call already in
flight finishes and is recorded (it has been paid for). Probe rows are locked
before the run row, the same order the probe step uses, so a cancel never
deadlocks with a worker.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth.principal import Principal
from modeldesk.db.job_queue import discard_queued_jobs, probe_entrypoint
from modeldesk.db.run_tables import Probe, Run
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.errors import ConflictError, NotFoundError
from modeldesk.runs.probe_records import ACTIVE_RUN_STATUSES

logger = logging.getLogger(__name__)


async def cancel_run(db: Database, actor: Principal, run_id: int) -> Run:
    """Cancel an active run; cancelling a cancelled run again is a no-op.

    Raises `ConflictError` for a run that has already finished.
    """
    actor.require_admin("cancelling a run")
    async with db.transaction() as session:
        status = await session.scalar(select(Run.status).where(Run.id == run_id))
        if status is None:
            raise NotFoundError(f"No run with id {run_id}.")
        if status == "CANCELLED":
            return await _get(session, run_id)
        if status not in ACTIVE_RUN_STATUSES:
            raise ConflictError(f"Run {run_id} has already finished ({status}).")
        cancelled = await session.execute(
            update(Probe)
            .where(Probe.run_id == run_id, Probe.state == "PENDING")
            .values(state="CANCELLED", finished_at=func.now())
            .returning(Probe.id, Probe.model_id)
        )
        run = (
            await session.scalars(
                update(Run)
                .where(Run.id == run_id, Run.status.in_(ACTIVE_RUN_STATUSES))
                .values(status="CANCELLED", finished_at=func.now(), cancelled_by=actor.name)
                .returning(Run)
            )
        ).one_or_none()
        if run is None:
            raise ConflictError(f"Run {run_id} finished while it was being cancelled.")
        discarded = await _discard_jobs(session, [(row[0], row[1]) for row in cancelled])
    logger.info("run %s cancelled by %s; %d queued jobs discarded", run_id, actor.name, discarded)
    return run


async def _get(session: AsyncSession, run_id: int) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"No run with id {run_id}.")
    return run


async def _discard_jobs(session: AsyncSession, probes: Sequence[tuple[int, int]]) -> int:
    """Remove the cancelled probes' waiting jobs from their providers' queues."""
    if not probes:
        return 0
    model_ids = {model_id for _, model_id in probes}
    rows = await session.execute(
        select(LlmModel.id, LlmProvider.name)
        .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
        .where(LlmModel.id.in_(model_ids))
    )
    providers = {model_id: name for model_id, name in rows}
    payloads: dict[str, list[dict[str, int]]] = defaultdict(list)
    for probe_id, model_id in probes:
        payloads[probe_entrypoint(providers[model_id])].append({"probe_id": probe_id})
    discarded = 0
    for entrypoint, batch in payloads.items():
        discarded += await discard_queued_jobs(session, entrypoint, batch)
    return discarded

"""Cancelling a run: no new call starts once it returns.

Waiting probes become CANCELLED (and are counted, so the run still finishes
by its counters if it is retried later) and their queued jobs are discarded;
a job already picked finds its probe cancelled and skips the call. A call
already in flight finishes and is recorded (it has been paid for). A paused
run can be cancelled too. Probe rows are locked before the run row, the same
order the probe step uses, so a cancel never deadlocks with a worker.
"""

from __future__ import annotations

import logging

from sqlalchemy import func

from modeldesk.auth import Principal
from modeldesk.db.job_queue import cancel_pending_probes
from modeldesk.db.run_tables import Run
from modeldesk.db.session import Database
from modeldesk.enums import UNFINISHED_RUN_STATUSES, RunStatus
from modeldesk.errors import ConflictError
from modeldesk.runs.run_control import run_row, run_status, set_run_status

logger = logging.getLogger(__name__)


async def cancel_run(db: Database, actor: Principal, run_id: int) -> Run:
    """Cancel an unfinished run; cancelling a cancelled run again is a no-op.

    Raises `ConflictError` for a run that has already finished.
    """
    actor.require_admin("cancelling a run")
    async with db.transaction() as session:
        status = await run_status(session, run_id)
        if status == RunStatus.CANCELLED:
            return await run_row(session, run_id)
        if status not in UNFINISHED_RUN_STATUSES:
            raise ConflictError(f"Run {run_id} has already finished ({status}).")
        cancelled, discarded = await cancel_pending_probes(session, run_id)
        run = await set_run_status(
            session,
            run_id,
            UNFINISHED_RUN_STATUSES,
            status=RunStatus.CANCELLED,
            finished_at=func.now(),
            cancelled_by=actor.name,
            cancelled=Run.cancelled + cancelled,
        )
        if run is None:
            raise ConflictError(f"Run {run_id} finished while it was being cancelled.")
    logger.info("run %s cancelled by %s; %d queued jobs discarded", run_id, actor.name, discarded)
    return run

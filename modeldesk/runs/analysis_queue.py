"""When a summarizing run's probes and summaries are all done, queue its analysis.

Called after each probe outcome and each finished summary (`summary_recorded`),
each after its own commit: whichever of two concurrent events checks last
sees both, so the analysis is queued exactly once (the `run_analyses` insert
is ON CONFLICT DO NOTHING). The job waits in the analysis model's provider's
`probe.<name>` queue, under that provider's limits, like a summary.

A run's status alone does not say its judging is done: a run stopped at its
cap or cancelled is BUDGET_EXCEEDED or CANCELLED at once, while calls in
flight finish and are recorded, and a probe's step queues its summary in a
commit after its transcript's. So the run's counters must be complete too,
and the summaries its successful transcripts still lack are queued here
before the run counts as judged (an analysis queued earlier read the figures,
and a capped run's reservations, mid-flight).
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from modeldesk.catalog import resolve_infra_model
from modeldesk.db.job_queue import enqueue_jobs, probe_entrypoint
from modeldesk.db.session import Database
from modeldesk.db.sql_values import sql_list
from modeldesk.enums import UNFINISHED_INFRA_WORK_STATUSES, UNFINISHED_RUN_STATUSES, InfraWorkStatus
from modeldesk.errors import ModeldeskError
from modeldesk.runs.analysis import record_report, store_figures
from modeldesk.runs.summary_queue import queue_unjudged_summaries

logger = logging.getLogger(__name__)

ANALYSIS_PURPOSE = "analysis"
ANALYSIS_PAYLOAD_KEY = "analysis_run_id"

# A finished summarizing run, every probe recorded (each in-flight call
# included), with no summary left to do and no analysis yet.
_SUMMARY_UNFINISHED = sql_list(UNFINISHED_INFRA_WORK_STATUSES)
_READY = f"""
SELECT r.id FROM runs r
WHERE r.id = :run_id AND r.summarize
  AND r.status NOT IN ({sql_list(UNFINISHED_RUN_STATUSES)})
  AND r.completed + r.failed + r.skipped + r.cancelled >= r.total
  AND NOT EXISTS (SELECT 1 FROM transcript_summaries s
                  WHERE s.run_id = r.id AND s.status IN ({_SUMMARY_UNFINISHED}))
  AND NOT EXISTS (SELECT 1 FROM run_analyses a WHERE a.run_id = r.id)
"""
_INSERT = """
INSERT INTO run_analyses (run_id) VALUES (:run_id) ON CONFLICT DO NOTHING RETURNING run_id
"""


async def _is_ready(db: Database, run_id: int) -> bool:
    async with db.session() as session:
        return await session.scalar(text(_READY), {"run_id": run_id}) is not None


async def summary_recorded(db: Database, run_id: int) -> bool:
    """A summary (or a probe) of the run was recorded: queue its analysis if all are done.

    Returns whether this call queued it.
    """
    if not await _is_ready(db, run_id):
        return False
    # The first check passes only at the run's end: this scan of its transcripts is rare.
    if await queue_unjudged_summaries(db, run_id):
        return False
    # A probe's step may have queued its summary since the first check.
    if not await _is_ready(db, run_id):
        return False
    async with db.transaction() as session:
        inserted = await session.scalar(text(_INSERT), {"run_id": run_id})
        if inserted is None:
            return False
        no_model: ModeldeskError | None = None
        try:
            analyst = await resolve_infra_model(db, ANALYSIS_PURPOSE)
        except ModeldeskError as error:
            no_model = error
        else:
            await enqueue_jobs(
                session,
                probe_entrypoint(analyst.provider.name),
                [{ANALYSIS_PAYLOAD_KEY: run_id}],
            )
    if no_model is not None:
        # The figures need no model: store them, and the report as failed.
        await store_figures(db, run_id, InfraWorkStatus.FAILED)
        await record_report(
            db, run_id, report=None, error_code=no_model.code.value, error_message=no_model.message
        )
        return True
    logger.info("run %s: analysis queued for %s", run_id, analyst.provider.name)
    return True

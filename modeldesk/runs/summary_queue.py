"""Queueing a transcript's judging: its summary row and its job, in one transaction.

The summary row and its job go in together, in the judge's provider's
`probe.<name>` queue (SPEC 9.5: a judge call passes the same admission,
limits and holds as a probe's). Inserting ON CONFLICT DO NOTHING makes every
caller safe to repeat and to race: a summary is queued once, whoever gets
there first.

Apart from `summaries` (which imports the analysis queue), so that the
analysis queue can queue the summaries a run still lacks before it declares
the run's judging done: a probe's step records its transcript and queues its
summary in two commits, and may die between them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.catalog import InfraModelResolution, resolve_infra_model
from modeldesk.db.job_queue import enqueue_jobs, probe_entrypoint
from modeldesk.db.session import Database
from modeldesk.db.sql_values import sql_value
from modeldesk.enums import TranscriptStatus
from modeldesk.errors import ModeldeskError

logger = logging.getLogger(__name__)

SUMMARIZATION_PURPOSE = "summarization"
SUMMARY_PAYLOAD_KEY = "summary_id"

_INSERT_SUMMARY = """
INSERT INTO transcript_summaries (transcript_id, run_id, judge_model_id)
VALUES (:transcript_id, :run_id, :judge_model_id)
ON CONFLICT DO NOTHING
RETURNING transcript_id
"""
# A summarizing run's successful transcripts that have no summary row.
_UNJUDGED = f"""
SELECT t.id FROM transcripts t JOIN runs r ON r.id = t.run_id
WHERE t.run_id = :run_id AND r.summarize AND t.status = {sql_value(TranscriptStatus.SUCCEEDED)}
  AND NOT EXISTS (SELECT 1 FROM transcript_summaries s WHERE s.transcript_id = t.id)
"""
_INSERT_UNJUDGED = f"""
INSERT INTO transcript_summaries (transcript_id, run_id, judge_model_id)
SELECT unjudged.id, :run_id, :judge_model_id FROM ({_UNJUDGED}) unjudged
ON CONFLICT DO NOTHING
RETURNING transcript_id
"""


async def _judge(run_id: int, db: Database, what: str) -> InfraModelResolution | None:
    try:
        return await resolve_infra_model(db, SUMMARIZATION_PURPOSE)
    except ModeldeskError as error:
        logger.error("run %s: %s not summarized: %s", run_id, what, error.message)
        return None


async def _enqueue(
    session: AsyncSession, judge: InfraModelResolution, transcript_ids: Sequence[int]
) -> None:
    await enqueue_jobs(
        session,
        probe_entrypoint(judge.provider.name),
        [{SUMMARY_PAYLOAD_KEY: transcript_id} for transcript_id in transcript_ids],
    )


async def queue_summary(db: Database, transcript_id: int, run_id: int) -> int | None:
    """Queue the judging of the transcript; returns its id, None when not queued.

    None when its summary was queued already, or when no model can judge
    (logged; the probe itself stays succeeded).
    """
    judge = await _judge(run_id, db, f"transcript {transcript_id}")
    if judge is None:
        return None
    async with db.transaction() as session:
        inserted = await session.scalar(
            text(_INSERT_SUMMARY),
            {"transcript_id": transcript_id, "run_id": run_id, "judge_model_id": judge.model.id},
        )
        if inserted is None:
            return None
        await _enqueue(session, judge, [transcript_id])
    logger.info(
        "run %s: summary of transcript %s queued for %s/%s",
        run_id,
        transcript_id,
        judge.provider.name,
        judge.model.model_id,
    )
    return transcript_id


async def queue_unjudged_summaries(db: Database, run_id: int) -> int:
    """Queue the summaries the run's successful transcripts still lack; returns how many.

    One scan of the run's transcripts: meant for the end of a run, not for each probe.
    """
    async with db.session() as session:
        unjudged = await session.scalar(text(_UNJUDGED + "LIMIT 1"), {"run_id": run_id})
    if unjudged is None:
        return 0
    judge = await _judge(run_id, db, "transcripts without a summary")
    if judge is None:
        return 0
    async with db.transaction() as session:
        inserted = list(
            await session.scalars(
                text(_INSERT_UNJUDGED), {"run_id": run_id, "judge_model_id": judge.model.id}
            )
        )
        if inserted:
            await _enqueue(session, judge, inserted)
    if inserted:
        # Their probes' steps had not queued them (yet, or ever: a step may die
        # between recording the transcript and queueing its summary).
        logger.info(
            "run %s: %d summaries queued at the end of the run for %s/%s",
            run_id,
            len(inserted),
            judge.provider.name,
            judge.model.model_id,
        )
    return len(inserted)

"""The judging totals (migration 0012) equal a recomputation from the summaries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import InfraWorkStatus, TranscriptStatus
from modeldesk.runs import cost_breakdown
from modeldesk.testing.transcript_fill import filled_run

_RECOMPUTED = """
SELECT s.run_id, t.model_id,
    count(*) FILTER (WHERE s.status = :completed) AS completed,
    count(*) FILTER (WHERE s.status = :failed) AS failed,
    coalesce(sum(s.estimated_cost), 0) AS cost
FROM transcript_summaries s JOIN transcripts t ON t.id = s.transcript_id
GROUP BY s.run_id, t.model_id
HAVING count(*) FILTER (WHERE s.status IN (:completed, :failed)) <> 0
    OR coalesce(sum(s.estimated_cost), 0) <> 0
ORDER BY 1, 2
"""
_FINISHED = {
    "completed": InfraWorkStatus.COMPLETED.value,
    "failed": InfraWorkStatus.FAILED.value,
}
_KEPT = """
SELECT run_id, model_id, summaries_completed, summaries_failed, judge_cost
FROM run_model_totals
WHERE summaries_completed <> 0 OR summaries_failed <> 0 OR judge_cost <> 0
ORDER BY 1, 2
"""
_SET_SUMMARIES = """
UPDATE transcript_summaries SET status = :status, score = :score, estimated_cost = :cost
WHERE transcript_id = ANY(:ids)
"""


@pytest.fixture
async def judged_transcripts(seeded_db: Database, admin: Principal) -> tuple[int, list[int]]:
    """A finished run of 10 scenarios on five models, with a pending summary per success."""
    run_id = await filled_run(seeded_db, admin, [10])
    async with seeded_db.transaction() as session:
        rows = await session.execute(
            text(
                "INSERT INTO transcript_summaries (transcript_id, run_id, judge_model_id)"
                " SELECT id, run_id, model_id FROM transcripts"
                " WHERE run_id = :run_id AND status = :succeeded ORDER BY id"
                " RETURNING transcript_id"
            ),
            {"run_id": run_id, "succeeded": TranscriptStatus.SUCCEEDED.value},
        )
        transcript_ids = sorted(row[0] for row in rows)
    return run_id, transcript_ids


async def _rows(db: Database, query: str, parameters: dict[str, str]) -> list[tuple[object, ...]]:
    async with db.session() as session:
        return [tuple(row) for row in (await session.execute(text(query), parameters)).all()]


async def assert_judging_totals_exact(db: Database) -> None:
    assert await _rows(db, _KEPT, {}) == await _rows(db, _RECOMPUTED, _FINISHED)


async def _set_summaries(
    session: AsyncSession,
    transcript_ids: list[int],
    status: InfraWorkStatus,
    cost: str,
    score: int | None = None,
) -> None:
    await session.execute(
        text(_SET_SUMMARIES),
        {"ids": transcript_ids, "status": status.value, "score": score, "cost": Decimal(cost)},
    )


async def test_summary_writes_keep_the_totals_and_the_breakdown_reads_them(
    seeded_db: Database, judged_transcripts: tuple[int, list[int]]
) -> None:
    db = seeded_db
    run_id, transcript_ids = judged_transcripts
    first, second, third = transcript_ids[:3]
    async with db.transaction() as session:
        await _set_summaries(session, [first, second], InfraWorkStatus.COMPLETED, "0.002", score=7)
        await _set_summaries(session, [third], InfraWorkStatus.FAILED, "0.0005")
    await assert_judging_totals_exact(db)
    assert (await cost_breakdown(db, run_id)).infrastructure_cost == Decimal("0.0045")

    # A retry sends a failed summary back to PENDING: its count and cost come off again.
    async with db.transaction() as session:
        await _set_summaries(session, [third], InfraWorkStatus.PENDING, "0")
        await session.execute(
            text("DELETE FROM transcript_summaries WHERE transcript_id = :b"), {"b": second}
        )
    await assert_judging_totals_exact(db)
    assert (await cost_breakdown(db, run_id)).infrastructure_cost == Decimal("0.002")

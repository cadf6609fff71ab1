"""Run reads: lists, details and the batched lookups DataLoaders and pages need.

Every "by ids" function answers a whole batch with one query, so a run list
with nested models and transcripts never turns into N+1 queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from modeldesk.db.reads import required, row_by_key, rows_by_ids, rows_grouped_by
from modeldesk.db.run_tables import Probe, Run, RunModel, Scenario, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.input_rules import is_db_id


@dataclass(frozen=True)
class RunProgress:
    total: int
    completed: int
    failed: int
    # Never called: skipped once the budget cap was reached, or cancelled.
    skipped: int = 0
    cancelled: int = 0

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.skipped + self.cancelled


def run_progress(run: Run) -> RunProgress:
    return RunProgress(
        total=run.total,
        completed=run.completed,
        failed=run.failed,
        skipped=run.skipped,
        cancelled=run.cancelled,
    )


async def list_runs(
    db: Database, *, limit: int = 100, offset: int = 0, definition_id: int | None = None
) -> list[Run]:
    """Newest first, optionally of one definition."""
    query = select(Run).order_by(Run.id.desc()).limit(limit).offset(offset)
    if definition_id is not None:
        query = query.where(Run.definition_id == definition_id)
    async with db.session() as session:
        return list(await session.scalars(query))


async def find_run(db: Database, run_id: int) -> Run | None:
    """The run, or None when there is none (the API's nullable lookup)."""
    return await row_by_key(db, Run, run_id) if is_db_id(run_id) else None


async def get_run(db: Database, run_id: int) -> Run:
    return required(await find_run(db, run_id), f"No run with id {run_id}.")


async def runs_by_ids(db: Database, ids: Sequence[int]) -> dict[int, Run]:
    return await rows_by_ids(db, Run, ids)


async def run_models_by_run_ids(db: Database, run_ids: Sequence[int]) -> dict[int, list[LlmModel]]:
    """Each run's target models, in the order they were given."""
    in_given_order = (
        select(LlmModel)
        .join(RunModel, RunModel.model_id == LlmModel.id)
        .order_by(RunModel.position)
    )
    return await rows_grouped_by(db, RunModel.run_id, run_ids, in_given_order)


async def first_transcripts(db: Database, run_id: int, limit: int) -> list[Transcript]:
    """One run's oldest `limit` transcripts: a page shows a few, never all 10,000."""
    async with db.session() as session:
        rows = await session.scalars(
            select(Transcript)
            .where(Transcript.run_id == run_id)
            .order_by(Transcript.id)
            .limit(limit)
        )
        return list(rows)


async def scenario_counts_by_definition_ids(
    db: Database, definition_ids: Sequence[int]
) -> dict[int, int]:
    """How many current scenarios each definition has, counted in the database."""
    if not definition_ids:
        return {}
    async with db.session() as session:
        rows = await session.execute(
            select(Scenario.definition_id, func.count())
            .where(Scenario.definition_id.in_(definition_ids), Scenario.is_current.is_(True))
            .group_by(Scenario.definition_id)
        )
        counts: dict[int, int] = {definition_id: 0 for definition_id in definition_ids}
        counts.update({definition_id: count for definition_id, count in rows.all()})
        return counts


async def probes_by_ids(db: Database, ids: Sequence[int]) -> dict[int, Probe]:
    """Probes by id: their state, retry counters and the last error's message."""
    return await rows_by_ids(db, Probe, ids)

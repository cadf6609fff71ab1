"""Run reads: lists, details and the batched lookups DataLoaders and pages need.

Every "by ids" function answers a whole batch with one query, so a run list
with nested models and transcripts never turns into N+1 queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from modeldesk.db.run_tables import Probe, Run, RunModel, Scenario, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.errors import NotFoundError
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
    if not is_db_id(run_id):
        return None
    async with db.session() as session:
        return await session.get(Run, run_id)


async def get_run(db: Database, run_id: int) -> Run:
    run = await find_run(db, run_id)
    if run is None:
        raise NotFoundError(f"No run with id {run_id}.")
    return run


async def runs_by_ids(db: Database, ids: Sequence[int]) -> dict[int, Run]:
    if not ids:
        return {}
    async with db.session() as session:
        rows = await session.scalars(select(Run).where(Run.id.in_(ids)))
        return {row.id: row for row in rows}


async def run_models_by_run_ids(db: Database, run_ids: Sequence[int]) -> dict[int, list[LlmModel]]:
    """Each run's target models, in the order they were given."""
    grouped: dict[int, list[LlmModel]] = defaultdict(list)
    if not run_ids:
        return grouped
    async with db.session() as session:
        rows = await session.execute(
            select(RunModel.run_id, LlmModel)
            .join(LlmModel, LlmModel.id == RunModel.model_id)
            .where(RunModel.run_id.in_(run_ids))
            .order_by(RunModel.run_id, RunModel.position)
        )
        for run_id, model in rows.all():
            grouped[run_id].append(model)
    return grouped


async def transcripts_by_run_ids(
    db: Database, run_ids: Sequence[int]
) -> dict[int, list[Transcript]]:
    """Each run's transcripts (successes and recorded failures), oldest first."""
    grouped: dict[int, list[Transcript]] = defaultdict(list)
    if not run_ids:
        return grouped
    async with db.session() as session:
        rows = await session.scalars(
            select(Transcript)
            .where(Transcript.run_id.in_(run_ids))
            .order_by(Transcript.run_id, Transcript.id)
        )
        for row in rows:
            grouped[row.run_id].append(row)
    return grouped


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
    if not ids:
        return {}
    async with db.session() as session:
        rows = await session.scalars(select(Probe).where(Probe.id.in_(ids)))
        return {row.id: row for row in rows}

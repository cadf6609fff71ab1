"""What a run cost, per model and in total, from its transcripts' snapshots.

The figures are the running totals per (run, model) (`total_tables`) of
`estimated_cost`, the cost each transcript's snapshot recorded at call time,
so a later price change never moves a past run's cost, and a breakdown costs
the same whatever the number of transcripts (SPEC 9.7). One query answers
any number of runs: GROUPING SETS gives every (run, model) row and each
run's total together. The judge's calls of a summarizing run are kept in
the same rows (`judge_cost`) and shown apart, as its infrastructure cost,
inside the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, func, select, tuple_

from modeldesk.db.run_tables import RunModel
from modeldesk.db.session import Database
from modeldesk.db.total_tables import RunModelTotals


@dataclass(frozen=True)
class CostLine:
    """The recorded usage and cost of one model in a run (or of the whole run)."""

    input_tokens: int
    output_tokens: int
    cost: Decimal
    # Transcripts recorded so far: successes and final failures.
    probe_count: int
    failed_count: int
    # Some of the cost was charged at fallback prices because none were recorded.
    unpriced: bool


@dataclass(frozen=True)
class ModelCost(CostLine):
    model_id: int = 0


@dataclass(frozen=True)
class CostBreakdown:
    run_id: int
    total: CostLine  # the probes' calls
    per_model: list[ModelCost] = field(default_factory=list)
    # The judge's calls (summaries, SPEC 9.5), recorded with snapshots like a probe's.
    infrastructure_cost: Decimal = Decimal(0)

    @property
    def total_cost(self) -> Decimal:
        """Everything the run spent: its probes and the infrastructure calls it made."""
        return self.total.cost + self.infrastructure_cost


_EMPTY = CostLine(0, 0, Decimal(0), 0, 0, False)


async def cost_breakdowns_by_run_ids(
    db: Database, run_ids: Sequence[int]
) -> dict[int, CostBreakdown]:
    """Each run's breakdown, its target models in the order given; one query for all runs."""
    if not run_ids:
        return {}
    t = RunModelTotals
    query = (
        select(
            RunModel.run_id,
            RunModel.model_id,
            func.grouping(RunModel.model_id).label("is_total"),
            func.coalesce(func.sum(t.input_tokens), 0),
            func.coalesce(func.sum(t.output_tokens), 0),
            func.coalesce(func.sum(t.cost), 0),
            func.coalesce(func.sum(t.succeeded + t.failed + t.skipped), 0),
            func.coalesce(func.sum(t.failed), 0),
            func.coalesce(func.sum(t.unpriced), 0) > 0,
            func.coalesce(func.sum(t.judge_cost), 0),
        )
        .select_from(RunModel)
        .outerjoin(t, and_(t.run_id == RunModel.run_id, t.model_id == RunModel.model_id))
        .where(RunModel.run_id.in_(run_ids))
        .group_by(
            func.grouping_sets(
                tuple_(RunModel.run_id, RunModel.position, RunModel.model_id),
                tuple_(RunModel.run_id),
            )
        )
        .order_by(RunModel.run_id, RunModel.position)
    )
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    per_model: dict[int, list[ModelCost]] = {run_id: [] for run_id in run_ids}
    totals: dict[int, CostLine] = {}
    infrastructure: dict[int, Decimal] = {}
    for (
        run_id,
        model_id,
        is_total,
        tokens_in,
        tokens_out,
        cost,
        count,
        failed,
        unpriced,
        judging,
    ) in rows:
        figures = (
            int(tokens_in),
            int(tokens_out),
            Decimal(cost),
            int(count),
            int(failed),
            bool(unpriced),
        )
        if is_total:
            totals[run_id] = CostLine(*figures)
            infrastructure[run_id] = Decimal(judging)
        else:
            per_model[run_id].append(ModelCost(*figures, model_id=model_id))
    return {
        run_id: CostBreakdown(
            run_id,
            totals.get(run_id, _EMPTY),
            per_model[run_id],
            infrastructure.get(run_id, Decimal(0)),
        )
        for run_id in run_ids
    }


async def cost_breakdown(db: Database, run_id: int) -> CostBreakdown:
    """One run's breakdown (an unknown run has an empty one)."""
    return (await cost_breakdowns_by_run_ids(db, [run_id]))[run_id]

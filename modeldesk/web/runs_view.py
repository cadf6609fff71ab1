"""What the run pages show, loaded with one batched query per kind of row.

A run list of any length costs the same handful of queries: runs, their
definitions, target models, those models' providers and the cost breakdowns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modeldesk.catalog import providers_by_ids
from modeldesk.db.run_tables import Definition, Run, Scenario, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.enums import UNFINISHED_RUN_STATUSES
from modeldesk.runs import (
    CostBreakdown,
    RunProgress,
    cost_breakdowns_by_run_ids,
    definitions_by_ids,
    first_transcripts,
    get_run,
    retryable_failure_counts,
    run_models_by_run_ids,
    run_progress,
    scenarios_by_ids,
)
from modeldesk.web.run_scores import RunScores, leaders_by_run_ids, run_scores

# A run's page lists at most this many transcripts; the cost figures cover them all.
TRANSCRIPTS_SHOWN = 200


def is_active(run: Run) -> bool:
    """Still moving, or paused: the page keeps polling it and offers Cancel."""
    return run.status in UNFINISHED_RUN_STATUSES


@dataclass(frozen=True)
class RunRow:
    run: Run
    definition: Definition | None
    # Target model database id -> "provider/model_id", in the run's order.
    labels: dict[int, str]
    breakdown: CostBreakdown
    # The model with the best mean score, once a summarizing run is analysed.
    leader: str | None = None

    @property
    def progress(self) -> RunProgress:
        return run_progress(self.run)

    @property
    def active(self) -> bool:
        return is_active(self.run)


@dataclass(frozen=True)
class RunDetail:
    row: RunRow
    transcripts: list[Transcript]
    transcript_count: int
    scenarios: dict[int, Scenario]
    # Failed probes `Retry failed probes` would queue again.
    retryable_failures: int = 0
    scores: RunScores | None = None  # a summarizing run's judging (SPEC 9.5)


async def model_labels(db: Database, models: Iterable[LlmModel]) -> dict[int, str]:
    models = list(models)
    providers = await providers_by_ids(db, sorted({m.provider_id for m in models}))
    return {m.id: f"{providers[m.provider_id].name}/{m.model_id}" for m in models}


async def run_rows(db: Database, runs: Sequence[Run]) -> list[RunRow]:
    ids = [run.id for run in runs]
    definitions = await definitions_by_ids(db, sorted({run.definition_id for run in runs}))
    targets = await run_models_by_run_ids(db, ids)
    labels = await model_labels(db, (m for models in targets.values() for m in models))
    breakdowns = await cost_breakdowns_by_run_ids(db, ids)
    leaders = await leaders_by_run_ids(db, ids, labels)
    return [
        RunRow(
            run,
            definitions.get(run.definition_id),
            {m.id: labels[m.id] for m in targets.get(run.id, [])},
            breakdowns[run.id],
            leaders.get(run.id),
        )
        for run in runs
    ]


async def run_detail(db: Database, run_id: int) -> RunDetail:
    run = await get_run(db, run_id)
    (row,) = await run_rows(db, [run])
    shown = await first_transcripts(db, run_id, TRANSCRIPTS_SHOWN)
    scenarios = await scenarios_by_ids(db, sorted({t.scenario_id for t in shown}))
    retryable = (await retryable_failure_counts(db, [run_id]))[run_id]
    # The breakdown already counted every transcript; no need to load them to count.
    scores = await run_scores(db, run, row.breakdown, row.labels, shown)
    return RunDetail(row, shown, row.breakdown.total.probe_count, scenarios, retryable, scores)

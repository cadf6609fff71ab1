"""What a summarizing run's page shows of its judging: scores, chart, summaries, report.

While the run moves the figures are computed from the summaries so far; once
its analysis has stored them, those are shown, with the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from modeldesk.db.run_tables import Run, Transcript
from modeldesk.db.session import Database
from modeldesk.db.summary_tables import RunAnalysis, TranscriptSummary
from modeldesk.runs import (
    CostBreakdown,
    ModelScores,
    analyses_by_run_ids,
    compute_run_scores,
    summaries_by_transcript_ids,
)
from modeldesk.web.scores_chart import ScoresChart, leading_model, scores_chart


@dataclass(frozen=True)
class RunScores:
    analysis: RunAnalysis | None
    figures: list[ModelScores]
    chart: ScoresChart | None
    leader: int | None
    costs: dict[int, Decimal]
    # Transcript id -> its summary, for the transcripts shown.
    summaries: dict[int, TranscriptSummary]


def stored_figures(analysis: RunAnalysis | None) -> list[ModelScores]:
    if analysis is None:
        return []
    return [ModelScores.from_json(line) for line in analysis.per_model or []]


async def run_scores(
    db: Database,
    run: Run,
    breakdown: CostBreakdown,
    labels: Mapping[int, str],
    transcripts: Sequence[Transcript],
) -> RunScores | None:
    """None for a run that does not summarize."""
    if not run.summarize:
        return None
    analysis = (await analyses_by_run_ids(db, [run.id])).get(run.id)
    figures = stored_figures(analysis) or await compute_run_scores(db, run.id)
    costs = {line.model_id: line.cost for line in breakdown.per_model}
    summaries = await summaries_by_transcript_ids(db, [t.id for t in transcripts])
    return RunScores(
        analysis,
        figures,
        scores_chart(figures, labels, costs),
        leading_model(figures),
        costs,
        summaries,
    )


async def leaders_by_run_ids(
    db: Database, run_ids: Sequence[int], labels: Mapping[int, str]
) -> dict[int, str]:
    """The leading model's label of each finished, analysed run (the others are absent)."""
    leaders = {}
    for run_id, analysis in (await analyses_by_run_ids(db, run_ids)).items():
        leader = leading_model(stored_figures(analysis))
        if leader is not None:
            leaders[run_id] = labels.get(leader, f"model #{leader}")
    return leaders

"""A transcript's judged summary and a run's analysis as GraphQL types (SPEC 9.5)."""

from __future__ import annotations

from typing import Any

import strawberry

from modeldesk.api.context import Info
from modeldesk.api.run_loaders import load_models
from modeldesk.api.types.catalog import LlmModelType
from modeldesk.db.session import Database
from modeldesk.db.summary_tables import RunAnalysis, TranscriptSummary
from modeldesk.enums import InfraWorkStatus
from modeldesk.runs import analyses_by_run_ids, summaries_by_transcript_ids

strawberry.enum(
    InfraWorkStatus,
    name="InfraWorkStatus",
    description="A summary's or an analysis's progress: PENDING, RUNNING, COMPLETED or FAILED.",
)


async def load_summaries(db: Database, transcript_ids: list[int]) -> list[TranscriptSummary | None]:
    found = await summaries_by_transcript_ids(db, transcript_ids)
    return [found.get(i) for i in transcript_ids]


async def load_analyses(db: Database, run_ids: list[int]) -> list[RunAnalysis | None]:
    found = await analyses_by_run_ids(db, run_ids)
    return [found.get(i) for i in run_ids]


@strawberry.type(name="TranscriptSummary", description="The summarization model's judgement.")
class TranscriptSummaryType:
    status: InfraWorkStatus
    score: float | None
    summary: str | None = strawberry.field(description="One sentence.")
    error_code: str | None = strawberry.field(description="Why the summary failed.")

    @classmethod
    def from_row(cls, row: TranscriptSummary) -> TranscriptSummaryType:
        return cls(
            status=InfraWorkStatus(row.status),
            score=None if row.score is None else float(row.score),
            summary=row.summary,
            error_code=row.error_code,
        )


@strawberry.type(name="ModelScore", description="Computed from the scored summaries, never asked.")
class ModelScoreType:
    scored_count: int
    mean_score: float | None
    ci_low: float | None = strawberry.field(description="95 % t-interval of the mean, low end.")
    ci_high: float | None
    model_pk: strawberry.Private[int]

    @strawberry.field
    async def model(self, info: Info) -> LlmModelType:
        return LlmModelType.from_row(await info.context.loader(load_models).load(self.model_pk))


@strawberry.type(name="RunAnalysis")
class RunAnalysisType:
    status: InfraWorkStatus
    per_model: list[ModelScoreType]
    report: str | None = strawberry.field(description="The analysis model's comparison.")

    @classmethod
    def from_row(cls, row: RunAnalysis) -> RunAnalysisType:
        lines: list[dict[str, Any]] = list(row.per_model or [])
        return cls(
            status=InfraWorkStatus(row.status),
            per_model=[
                ModelScoreType(
                    scored_count=line["scored_count"],
                    mean_score=line["mean_score"],
                    ci_low=line["ci_low"],
                    ci_high=line["ci_high"],
                    model_pk=line["model_id"],
                )
                for line in lines
            ],
            report=row.report,
        )

    @classmethod
    def pending(cls) -> RunAnalysisType:
        return cls(status=InfraWorkStatus.PENDING, per_model=[], report=None)


async def transcript_summary(info: Info, transcript_id: int) -> TranscriptSummaryType | None:
    row = await info.context.loader(load_summaries).load(transcript_id)
    return None if row is None else TranscriptSummaryType.from_row(row)


async def run_analysis(info: Info, run_id: int, summarize: bool) -> RunAnalysisType | None:
    """None for a run that does not summarize; PENDING until its analysis is queued."""
    if not summarize:
        return None
    row = await info.context.loader(load_analyses).load(run_id)
    return RunAnalysisType.pending() if row is None else RunAnalysisType.from_row(row)

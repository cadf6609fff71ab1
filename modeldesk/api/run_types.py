"""Definitions, scenarios, runs, transcripts, costs and estimates as GraphQL types.

Scalar fields are copied from the row when the object is built
(`object_from_row`, which also turns Decimal costs into JSON numbers); every
nested field goes through a per-request DataLoader (`run_loaders`).
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from modeldesk import enums, runs
from modeldesk.api.analysis_types import (
    RunAnalysisType,
    TranscriptSummaryType,
    run_analysis,
    transcript_summary,
)
from modeldesk.api.context import Info
from modeldesk.api.fields import described
from modeldesk.api.ids import parse_id, to_id
from modeldesk.api.paging import MAX_PAGE, check_page
from modeldesk.api.row_objects import object_from_row
from modeldesk.api.run_loaders import (
    load_attempts,
    load_cost_breakdowns,
    load_current_scenarios,
    load_definitions,
    load_models,
    load_probes,
    load_retryable_failure_counts,
    load_run_models,
    load_scenarios,
    load_transcript_counts,
    load_transcript_pages,
)
from modeldesk.api.selection import in_slices, selects_field
from modeldesk.api.types.catalog import LlmModelType
from modeldesk.db import run_tables

# Registers the service's enum as the GraphQL `RunStatus` (it returns the same class).
strawberry.enum(
    enums.RunStatus,
    name="RunStatus",
    description="PAUSED: no new call starts until resumed. BUDGET_EXCEEDED: stopped by maxCost.",
)


strawberry.enum(
    enums.TranscriptStatus,
    name="TranscriptStatus",
    description="SKIPPED: not called, the run's budget could not cover it.",
)


strawberry.enum(
    enums.ExpansionStatus,
    name="ExpansionStatus",
    description="A definition's LLM scenario expansion: QUEUED until it succeeds or fails.",
)


@strawberry.type(name="Dimension")
class DimensionType:
    name: str
    levels: list[str]


@strawberry.type(name="Scenario")
class ScenarioType:
    id: strawberry.ID
    text: str
    position: int
    source: str = strawberry.field(description="explicit, combinatorial or llm.")

    @classmethod
    def from_row(cls, row: run_tables.Scenario) -> ScenarioType:
        return object_from_row(cls, row, id=to_id(row.id))


@strawberry.type(name="Definition")
class DefinitionType:
    id: strawberry.ID
    name: str
    preamble: str | None
    template: str
    dimensions: list[DimensionType]
    created_by: str
    created_at: datetime
    expansion_status: enums.ExpansionStatus | None = strawberry.field(
        description="The latest LLM expansion; null if none was asked for."
    )
    expansion_error: str | None = strawberry.field(
        description="Why the latest expansion failed; the previous scenarios were kept."
    )
    rubric: str | None = strawberry.field(
        description="How the summarization model judges an answer of this definition's runs."
    )
    row: strawberry.Private[run_tables.Definition]

    @classmethod
    def from_row(cls, row: run_tables.Definition) -> DefinitionType:
        return object_from_row(
            cls,
            row,
            id=to_id(row.id),
            dimensions=[
                DimensionType(name=d.name, levels=list(d.levels))
                for d in runs.definition_dimensions(row)
            ],
            row=row,
        )

    @described("The current scenarios, in order.")
    async def scenarios(self, info: Info) -> list[ScenarioType]:
        rows = await info.context.loader(load_current_scenarios).load(self.row.id)
        return [ScenarioType.from_row(row) for row in rows]


@strawberry.type(name="RunProgress")
class RunProgressType:
    total: int
    completed: int = strawberry.field(description="Probes that succeeded.")
    failed: int = strawberry.field(description="Probes that failed for good.")
    skipped: int = strawberry.field(description="Probes not called: the budget cap was reached.")
    cancelled: int = strawberry.field(description="Probes not called: the run was cancelled.")


@strawberry.type(name="ModelCost")
class ModelCostType:
    input_tokens: int
    output_tokens: int
    cost: float
    probe_count: int = strawberry.field(description="Probes recorded so far, failures included.")
    failed_count: int
    unpriced: bool = strawberry.field(description="Some calls were charged fallback prices.")
    model_pk: strawberry.Private[int]

    @strawberry.field
    async def model(self, info: Info) -> LlmModelType:
        return LlmModelType.from_row(await info.context.loader(load_models).load(self.model_pk))


@strawberry.type(name="CostBreakdown", description="From the transcripts' cost snapshots.")
class CostBreakdownType:
    total_cost: float = strawberry.field(description="Probes plus infrastructure calls.")
    infrastructure_cost: float = strawberry.field(
        description="The summarization model's calls for this run, inside totalCost."
    )
    input_tokens: int
    output_tokens: int
    probe_count: int
    unpriced: bool
    per_model: list[ModelCostType]

    @classmethod
    def from_breakdown(cls, breakdown: runs.CostBreakdown) -> CostBreakdownType:
        # The totals are the sum line's; the costs, the breakdown's own.
        return object_from_row(
            cls,
            breakdown.total,
            total_cost=float(breakdown.total_cost),
            infrastructure_cost=float(breakdown.infrastructure_cost),
            per_model=[
                object_from_row(ModelCostType, line, model_pk=line.model_id)
                for line in breakdown.per_model
            ],
        )


@strawberry.type(name="TranscriptAttempt", description="One failed call of the probe.")
class TranscriptAttemptType:
    started_at: datetime | None
    error_code: str
    message: str | None


@strawberry.type(name="Transcript")
class TranscriptType:
    id: strawberry.ID
    status: enums.TranscriptStatus
    error_code: str | None
    response: str | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int = strawberry.field(
        description="Prompt tokens written to the provider's cache (part of inputTokens)."
    )
    reasoning_tokens: int
    estimated_cost: float
    cost_snapshot: JSON | None = strawberry.field(description="The exact prices used.")
    unpriced: bool
    duration_ms: int | None
    created_at: datetime
    row: strawberry.Private[run_tables.Transcript]

    @classmethod
    def from_row(cls, row: run_tables.Transcript) -> TranscriptType:
        return object_from_row(cls, row, id=to_id(row.id), row=row)

    @described("The summarization model's score and summary; null when not summarized.")
    async def summary(self, info: Info) -> TranscriptSummaryType | None:
        return await transcript_summary(info, self.row.id)

    @strawberry.field
    async def scenario(self, info: Info) -> ScenarioType:
        row = await info.context.loader(load_scenarios).load(self.row.scenario_id)
        return ScenarioType.from_row(row)

    @strawberry.field
    async def model(self, info: Info) -> LlmModelType:
        row = await info.context.loader(load_models).load(self.row.model_id)
        return LlmModelType.from_row(row)

    @described("The provider's error message when the probe failed.")
    async def error_message(self, info: Info) -> str | None:
        if self.row.status != enums.TranscriptStatus.FAILED:
            return None
        probe = await info.context.loader(load_probes).load(self.row.probe_id)
        return probe.error_message

    @described("Whether the failure may pass on a retry (retryFailedProbes queues those again).")
    async def retryable(self, info: Info) -> bool | None:
        if self.row.status != enums.TranscriptStatus.FAILED:
            return None
        probe = await info.context.loader(load_probes).load(self.row.probe_id)
        return probe.retryable

    @described("Every failed call of this probe, oldest first, earlier retries included.")
    async def attempts(self, info: Info) -> list[TranscriptAttemptType]:
        rows = await info.context.loader(load_attempts).load(self.row.probe_id)
        return [object_from_row(TranscriptAttemptType, row) for row in rows]


@strawberry.type(name="Run")
class RunType:
    id: strawberry.ID
    status: enums.RunStatus
    sample_percentage: float
    max_cost: float | None = strawberry.field(
        description="The budget cap in USD; null for none. Recorded plus reserved cost stays "
        "within it."
    )
    progress: RunProgressType
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_by: str | None
    summarize: bool = strawberry.field(
        description="Each successful probe is judged by the summarization model."
    )
    row: strawberry.Private[run_tables.Run]

    @classmethod
    def from_row(cls, row: run_tables.Run) -> RunType:
        return object_from_row(
            cls,
            row,
            id=to_id(row.id),
            status=enums.RunStatus(row.status),
            progress=object_from_row(RunProgressType, runs.run_progress(row)),
            row=row,
        )

    @strawberry.field
    async def definition(self, info: Info) -> DefinitionType:
        row = await info.context.loader(load_definitions).load(self.row.definition_id)
        return DefinitionType.from_row(row)

    @described("The target models, in the order given.")
    async def models(self, info: Info) -> list[LlmModelType]:
        rows = await info.context.loader(load_run_models).load(self.row.id)
        return [LlmModelType.from_row(row) for row in rows]

    @described("Scores per model and the written comparison; null when the run does not summarize.")
    async def analysis(self, info: Info) -> RunAnalysisType | None:
        return await run_analysis(info, self.row.id, self.row.summarize)

    @strawberry.field
    async def cost_breakdown(self, info: Info) -> CostBreakdownType:
        breakdown = await info.context.loader(load_cost_breakdowns).load(self.row.id)
        return CostBreakdownType.from_breakdown(breakdown)

    @described("Failed probes whose failure was retryable: what retryFailedProbes would queue.")
    async def retryable_failed_count(self, info: Info) -> int:
        return await info.context.loader(load_retryable_failure_counts).load(self.row.id)

    @described(
        "Recorded outcomes (successes, final failures, skipped probes), oldest first, a page "
        "at a time (limit at most 500); the export takes them all."
    )
    async def transcripts(
        self,
        info: Info,
        limit: int = MAX_PAGE,
        offset: int = 0,
        status: enums.TranscriptStatus | None = None,
        model_id: strawberry.ID | None = None,
    ) -> list[TranscriptType]:
        check_page(limit, offset)
        page = runs.TranscriptPage(
            run_id=self.row.id,
            limit=limit,
            offset=offset,
            status=status,
            model_id=None if model_id is None else parse_id(model_id, "modelId"),
            with_response=selects_field(info, "response"),
        )
        rows = await info.context.loader(load_transcript_pages).load(page)
        # An async iterable: graphql-core completes it item by item, and the loop
        # gets a turn every few items instead of after all 500 (SPEC 9.7).
        return cast(list[TranscriptType], in_slices([TranscriptType.from_row(r) for r in rows]))

    @described("How many transcripts match these filters: the length of all pages together.")
    async def transcript_count(
        self,
        info: Info,
        status: enums.TranscriptStatus | None = None,
        model_id: strawberry.ID | None = None,
    ) -> int:
        page = runs.TranscriptPage(
            run_id=self.row.id,
            limit=MAX_PAGE,
            status=status,
            model_id=None if model_id is None else parse_id(model_id, "modelId"),
        )
        return await info.context.loader(load_transcript_counts).load(page)

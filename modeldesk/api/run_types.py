"""Definitions, scenarios, runs, transcripts, costs and estimates as GraphQL types.

Scalar fields are copied from the row when the object is built; every nested
field goes through a per-request DataLoader (`run_loaders`). Costs leave the
service as exact Decimals and become JSON numbers only here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from modeldesk import runs
from modeldesk.api.context import Info
from modeldesk.api.fields import described
from modeldesk.api.ids import to_id
from modeldesk.api.run_loaders import (
    load_cost_breakdowns,
    load_current_scenarios,
    load_definitions,
    load_models,
    load_probes,
    load_run_models,
    load_scenarios,
    load_transcripts,
)
from modeldesk.api.types.catalog import LlmModelType
from modeldesk.db import run_tables


def cost(value: Decimal) -> float:
    return float(value)


@strawberry.enum
class RunStatus(Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


@strawberry.enum(description="What an estimate's token counts rest on.")
class EstimateBasis(Enum):
    HISTORY = "HISTORY"
    FALLBACK = "FALLBACK"


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
        return cls(id=to_id(row.id), text=row.text, position=row.position, source=row.source)


@strawberry.type(name="Definition")
class DefinitionType:
    id: strawberry.ID
    name: str
    preamble: str | None
    template: str
    dimensions: list[DimensionType]
    created_by: str
    created_at: datetime
    expansion_status: str | None = strawberry.field(
        description="The latest LLM expansion: QUEUED, SUCCEEDED or FAILED; null if none."
    )
    expansion_error: str | None = strawberry.field(
        description="Why the latest expansion failed; the previous scenarios were kept."
    )
    row: strawberry.Private[run_tables.Definition]

    @classmethod
    def from_row(cls, row: run_tables.Definition) -> DefinitionType:
        return cls(
            id=to_id(row.id),
            name=row.name,
            preamble=row.preamble,
            template=row.template,
            dimensions=[
                DimensionType(name=d.name, levels=list(d.levels))
                for d in runs.definition_dimensions(row)
            ],
            created_by=row.created_by,
            created_at=row.created_at,
            expansion_status=row.expansion_status,
            expansion_error=row.expansion_error,
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
    total_cost: float
    input_tokens: int
    output_tokens: int
    probe_count: int
    unpriced: bool
    per_model: list[ModelCostType]

    @classmethod
    def from_breakdown(cls, breakdown: runs.CostBreakdown) -> CostBreakdownType:
        total = breakdown.total
        return cls(
            total_cost=cost(total.cost),
            input_tokens=total.input_tokens,
            output_tokens=total.output_tokens,
            probe_count=total.probe_count,
            unpriced=total.unpriced,
            per_model=[
                ModelCostType(
                    input_tokens=line.input_tokens,
                    output_tokens=line.output_tokens,
                    cost=cost(line.cost),
                    probe_count=line.probe_count,
                    failed_count=line.failed_count,
                    unpriced=line.unpriced,
                    model_pk=line.model_id,
                )
                for line in breakdown.per_model
            ],
        )


@strawberry.type(name="Transcript")
class TranscriptType:
    id: strawberry.ID
    status: str = strawberry.field(description="SUCCEEDED or FAILED.")
    error_code: str | None
    response: str | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    estimated_cost: float
    cost_snapshot: JSON | None = strawberry.field(description="The exact prices used.")
    unpriced: bool
    duration_ms: int | None
    created_at: datetime
    row: strawberry.Private[run_tables.Transcript]

    @classmethod
    def from_row(cls, row: run_tables.Transcript) -> TranscriptType:
        return cls(
            id=to_id(row.id),
            status=row.status,
            error_code=row.error_code,
            response=row.response,
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cached_input_tokens=row.cached_input_tokens,
            reasoning_tokens=row.reasoning_tokens,
            estimated_cost=cost(row.estimated_cost),
            cost_snapshot=row.cost_snapshot,
            unpriced=row.unpriced,
            duration_ms=row.duration_ms,
            created_at=row.created_at,
            row=row,
        )

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
        if self.row.status != "FAILED":
            return None
        probe = await info.context.loader(load_probes).load(self.row.probe_id)
        return probe.error_message


@strawberry.type(name="Run")
class RunType:
    id: strawberry.ID
    status: RunStatus
    sample_percentage: float
    progress: RunProgressType
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_by: str | None
    row: strawberry.Private[run_tables.Run]

    @classmethod
    def from_row(cls, row: run_tables.Run) -> RunType:
        progress = runs.run_progress(row)
        return cls(
            id=to_id(row.id),
            status=RunStatus(row.status),
            sample_percentage=float(row.sample_percentage),
            progress=RunProgressType(
                total=progress.total, completed=progress.completed, failed=progress.failed
            ),
            created_by=row.created_by,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            cancelled_by=row.cancelled_by,
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

    @strawberry.field
    async def cost_breakdown(self, info: Info) -> CostBreakdownType:
        breakdown = await info.context.loader(load_cost_breakdowns).load(self.row.id)
        return CostBreakdownType.from_breakdown(breakdown)

    @described("Every recorded outcome: successes and final failures.")
    async def transcripts(self, info: Info) -> list[TranscriptType]:
        rows = await info.context.loader(load_transcripts).load(self.row.id)
        return [TranscriptType.from_row(row) for row in rows]


@strawberry.type(name="ModelEstimate")
class ModelEstimateType:
    model: LlmModelType
    probe_count: int
    input_tokens: int
    output_tokens: int
    input_price: float
    output_price: float
    cost: float
    basis: EstimateBasis
    basis_detail: str
    unpriced: bool = strawberry.field(
        description="No price is recorded; charged at the provider's default or fallback prices."
    )

    @classmethod
    def from_estimate(cls, line: runs.ModelEstimate) -> ModelEstimateType:
        return cls(
            model=LlmModelType.from_row(line.target.model, line.target.provider),
            probe_count=line.probe_count,
            input_tokens=line.input_tokens,
            output_tokens=line.output_tokens,
            input_price=float(line.input_price),
            output_price=float(line.output_price),
            cost=cost(line.cost),
            basis=EstimateBasis(line.basis),
            basis_detail=line.basis_detail,
            unpriced=line.unpriced,
        )


@strawberry.type(name="RunEstimate")
class RunEstimateType:
    definition_id: strawberry.ID
    scenario_count: int
    total_cost: float
    unpriced: bool
    per_model: list[ModelEstimateType]

    @classmethod
    def from_estimate(cls, estimate: runs.RunEstimate) -> RunEstimateType:
        return cls(
            definition_id=to_id(estimate.definition_id),
            scenario_count=estimate.scenario_count,
            total_cost=cost(estimate.total_cost),
            unpriced=estimate.unpriced,
            per_model=[ModelEstimateType.from_estimate(line) for line in estimate.per_model],
        )

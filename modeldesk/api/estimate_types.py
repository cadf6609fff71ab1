"""A run's cost estimate before it is created, as GraphQL types (`estimateRunCost`)."""

from __future__ import annotations

from enum import Enum

import strawberry

from modeldesk import runs
from modeldesk.api.ids import to_id
from modeldesk.api.row_objects import object_from_row
from modeldesk.api.types.catalog import LlmModelType


@strawberry.enum(description="What an estimate's token counts rest on.")
class EstimateBasis(Enum):
    HISTORY = "HISTORY"
    FALLBACK = "FALLBACK"


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
        return object_from_row(
            cls,
            line,
            model=LlmModelType.from_row(line.target.model, line.target.provider),
            basis=EstimateBasis(line.basis),
        )


@strawberry.type(name="RunEstimate")
class RunEstimateType:
    definition_id: strawberry.ID
    scenario_count: int
    total_cost: float
    infrastructure_cost: float = strawberry.field(
        description="Judging the answers, when the run summarizes; inside totalCost."
    )
    unpriced: bool
    per_model: list[ModelEstimateType]

    @classmethod
    def from_estimate(cls, estimate: runs.RunEstimate) -> RunEstimateType:
        return object_from_row(
            cls,
            estimate,
            definition_id=to_id(estimate.definition_id),
            per_model=[ModelEstimateType.from_estimate(line) for line in estimate.per_model],
        )

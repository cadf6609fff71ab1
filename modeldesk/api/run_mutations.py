"""Definition and run changes. Each resolver converts its input, calls the runs
service (which validates and enforces the admin role itself) and wraps the
result in the payload the SPEC names.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from modeldesk import runs
from modeldesk.api.context import Info
from modeldesk.api.fields import admin_mutation
from modeldesk.api.ids import parse_id
from modeldesk.api.run_types import DefinitionType, RunType


@strawberry.input
class DimensionInput:
    name: str
    levels: list[str]


@strawberry.input(
    description="With no scenarios listed, they are every combination of the dimension levels."
)
class CreateDefinitionInput:
    name: str
    template: str
    preamble: str | None = None
    dimensions: list[DimensionInput] | None = None
    scenarios: list[str] | None = None
    rubric: str | None = strawberry.field(
        default=None,
        description="How the summarization model judges an answer; its runs summarize by default.",
    )


@strawberry.input(
    description="models: database ids or provider/model_id; none means every enabled "
    "provider's default model that has a key. samplePercentage: (0, 100], default 100. "
    "maxCost: a budget cap in USD (>= 0), none by default; the run stops when the next call "
    "could pass it (status BUDGET_EXCEEDED, the rest of its probes SKIPPED)."
)
class CreateRunInput:
    definition_id: strawberry.ID
    models: list[str] | None = None
    sample_percentage: float | None = None
    max_cost: float | None = None
    summarize: bool | None = strawberry.field(
        default=None,
        description="Judge each successful probe with the summarization model; "
        "default: true when the definition has a rubric.",
    )


@strawberry.enum
class ExpansionMethod(Enum):
    LLM = "LLM"
    COMBINATORIAL = "COMBINATORIAL"


@strawberry.type
class DefinitionPayload:
    definition: DefinitionType


@strawberry.type
class RunPayload:
    run: RunType


@strawberry.type
class RunMutation:
    @admin_mutation
    async def create_definition(
        self, info: Info, input: CreateDefinitionInput
    ) -> DefinitionPayload:
        row = await runs.create_definition(
            info.context.db,
            info.context.principal,
            name=input.name,
            template=input.template,
            preamble=input.preamble,
            dimensions=[{"name": d.name, "levels": d.levels} for d in input.dimensions or []],
            scenarios=input.scenarios,
            rubric=input.rubric,
        )
        return DefinitionPayload(definition=DefinitionType.from_row(row))

    @admin_mutation
    async def expand_scenarios(
        self,
        info: Info,
        definition_id: strawberry.ID,
        method: ExpansionMethod = ExpansionMethod.LLM,
    ) -> DefinitionPayload:
        """LLM: queue a job for the scenario-expansion model (expansionStatus tells how it went).
        COMBINATORIAL: replace the scenarios with every combination of levels, at once."""
        ctx, pk = info.context, parse_id(definition_id, "definitionId")
        if method is ExpansionMethod.COMBINATORIAL:
            await runs.expand_combinatorially(ctx.db, ctx.principal, pk)
            row = await runs.get_definition(ctx.db, pk)
        else:
            row = await runs.request_scenario_expansion(ctx.db, ctx.principal, pk)
        return DefinitionPayload(definition=DefinitionType.from_row(row))

    @admin_mutation
    async def create_run(self, info: Info, input: CreateRunInput) -> RunPayload:
        row = await runs.create_run(
            info.context.db,
            info.context.principal,
            parse_id(input.definition_id, "definitionId"),
            input.models,
            None if input.sample_percentage is None else str(input.sample_percentage),
            max_cost=None if input.max_cost is None else str(input.max_cost),
            summarize=input.summarize,
        )
        return RunPayload(run=RunType.from_row(row))

    @admin_mutation
    async def cancel_run(self, info: Info, id: strawberry.ID) -> RunPayload:
        row = await runs.cancel_run(info.context.db, info.context.principal, parse_id(id))
        return RunPayload(run=RunType.from_row(row))

"""Definition and run reads, and the cost estimate of a run before it is created.

None of these is cacheable: run state moves without any catalogue change.
"""

from __future__ import annotations

from collections.abc import Iterable

import strawberry

from modeldesk import runs
from modeldesk.api.context import Info
from modeldesk.api.estimate_types import RunEstimateType
from modeldesk.api.fields import described
from modeldesk.api.ids import parse_id
from modeldesk.api.paging import check_page
from modeldesk.api.run_loaders import load_definitions
from modeldesk.api.run_types import DefinitionType, RunType
from modeldesk.db.run_tables import Definition
from modeldesk.input_rules import as_db_id


def prime_definitions(info: Info, rows: Iterable[Definition]) -> None:
    """Rows already read need no second query when a nested `definition` asks for them."""
    info.context.loader(load_definitions).prime_many({row.id: row for row in rows})


@strawberry.type
class RunQuery:
    @described("Newest first.")
    async def definitions(
        self, info: Info, limit: int = 50, offset: int = 0
    ) -> list[DefinitionType]:
        check_page(limit, offset)
        rows = await runs.list_definitions(info.context.db, limit=limit, offset=offset)
        prime_definitions(info, rows)
        return [DefinitionType.from_row(row) for row in rows]

    @described("null when no definition has this id.")
    async def definition(self, info: Info, id: strawberry.ID) -> DefinitionType | None:
        pk = as_db_id(id)
        row = None if pk is None else await runs.find_definition(info.context.db, pk)
        if row is None:
            return None
        prime_definitions(info, [row])
        return DefinitionType.from_row(row)

    @described("Newest first, optionally of one definition.")
    async def runs(
        self,
        info: Info,
        limit: int = 50,
        offset: int = 0,
        definition_id: strawberry.ID | None = None,
    ) -> list[RunType]:
        check_page(limit, offset)
        rows = await runs.list_runs(
            info.context.db,
            limit=limit,
            offset=offset,
            definition_id=None
            if definition_id is None
            else parse_id(definition_id, "definitionId"),
        )
        return [RunType.from_row(row) for row in rows]

    @described("null when no run has this id.")
    async def run(self, info: Info, id: strawberry.ID) -> RunType | None:
        pk = as_db_id(id)
        row = None if pk is None else await runs.find_run(info.context.db, pk)
        return None if row is None else RunType.from_row(row)

    @described(
        "What createRun with the same arguments would cost: current prices times the average "
        "tokens of each model's earlier transcripts, or the stated fallback (see basisDetail). "
        "summarize as in CreateRunInput (default: true when the definition has a rubric) "
        "includes the judge's calls (infrastructureCost) or leaves them out."
    )
    async def estimate_run_cost(
        self,
        info: Info,
        definition_id: strawberry.ID,
        models: list[str] | None = None,
        sample_percentage: float | None = None,
        summarize: bool | None = None,
    ) -> RunEstimateType:
        estimate = await runs.estimate_run_cost(
            info.context.db,
            parse_id(definition_id, "definitionId"),
            models,
            None if sample_percentage is None else str(sample_percentage),
            settings=info.context.app.settings,
            summarize=summarize,
        )
        return RunEstimateType.from_estimate(estimate)

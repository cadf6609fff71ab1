"""Creating a run: the run, its target models, one probe per (scenario, model) and
one queued job per probe, all in one transaction, so a run is never half-queued.

The target models are checked in that same transaction, under share locks
(`model_selection`), so a model deprecated or a provider disabled at that very
moment cannot slip into the run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth import Principal
from modeldesk.db.job_queue import enqueue_probes_in_turn, probe_entrypoint
from modeldesk.db.run_tables import Definition, Run, RunModel, Scenario
from modeldesk.db.session import Database, session_driver_connection
from modeldesk.errors import NotFoundError, ValidationError
from modeldesk.runs.budget import clean_max_cost, record_expected_usage
from modeldesk.runs.inputs import clean_sample_percentage
from modeldesk.runs.model_selection import TargetModel, check_model_count, select_models
from modeldesk.runs.sampling import sample_scenarios

logger = logging.getLogger(__name__)

# Five models over the largest definition (SPEC 9.7); beyond it a run is almost surely a
# mistake.
MAX_PROBES_PER_RUN = 100_000


async def _scenarios_for_run(
    session: AsyncSession, definition_id: int
) -> tuple[list[Scenario], bool]:
    """The current scenarios, read under a share lock so no expansion swaps them meanwhile,
    and whether the definition has a rubric (its runs then summarize by default)."""
    definitions = await session.execute(
        select(Definition.id, Definition.rubric)
        .where(Definition.id == definition_id)
        .with_for_update(read=True)
    )
    found = definitions.first()
    if found is None:
        raise NotFoundError(f"No definition with id {definition_id}.")
    scenarios = list(
        await session.scalars(
            select(Scenario)
            .where(Scenario.definition_id == definition_id, Scenario.is_current.is_(True))
            .order_by(Scenario.position)
        )
    )
    if not scenarios:
        raise ValidationError(
            f"Definition {definition_id} has no scenarios; add or expand some first.",
            field="definitionId",
        )
    return scenarios, found.rubric is not None


def _check_size(scenarios: int, models: int) -> None:
    if scenarios * models > MAX_PROBES_PER_RUN:
        raise ValidationError(
            f"{scenarios} scenarios x {models} models make {scenarios * models} probes; "
            f"a run holds at most {MAX_PROBES_PER_RUN}. Lower samplePercentage or pick "
            "fewer models.",
            field="samplePercentage",
        )


# One statement for all of a run's probes, in scenario order then model order
# (the order their jobs are queued in); only the two id lists cross the wire.
_INSERT_PROBES_SQL = """
INSERT INTO probes (run_id, scenario_id, model_id)
SELECT $1, s.id, m.id
FROM unnest($2::bigint[]) WITH ORDINALITY AS s(id, n)
CROSS JOIN unnest($3::bigint[]) WITH ORDINALITY AS m(id, n)
ORDER BY s.n, m.n
RETURNING id, model_id
"""


async def _insert_probes(
    session: AsyncSession, run_id: int, scenarios: Sequence[Scenario], targets: list[TargetModel]
) -> dict[str, list[int]]:
    """Insert the probes and return their ids, in order, grouped by job entrypoint."""
    inserted = await (await session_driver_connection(session)).fetch(
        _INSERT_PROBES_SQL,
        run_id,
        [scenario.id for scenario in scenarios],
        [target.model.id for target in targets],
    )
    entrypoint_of = {t.model.id: probe_entrypoint(t.provider.name) for t in targets}
    jobs: dict[str, list[int]] = defaultdict(list)
    for probe_id, model_id in sorted(inserted):
        jobs[entrypoint_of[model_id]].append(probe_id)
    return jobs


async def create_run(
    db: Database,
    actor: Principal,
    definition_id: int,
    models: Sequence[str] | None = None,
    sample_percentage: Any = None,
    max_cost: Any = None,
    summarize: bool | None = None,
) -> Run:
    """Create and queue a run of the definition's current scenarios.

    `models` are database ids ("12") or "provider/model_id"; none means the
    default model of every enabled provider with a configured key. Unknown,
    deprecated and disabled models are refused together, checked under lock in
    the transaction that inserts the run (see `model_selection`).
    `sample_percentage` (0-100], default 100, picks a deterministic subset of
    the scenarios (`sampling`). `max_cost` (USD >= 0, default none) caps what
    the run may spend (`budget`). Its jobs take turns with other runs' jobs
    on the same providers (`enqueue_in_turn`). `summarize` (default: whether the
    definition has a rubric) has each successful probe judged (`summaries`).
    """
    actor.require_admin("creating a run")
    check_model_count(models)
    percentage = clean_sample_percentage(sample_percentage)
    cap = clean_max_cost(max_cost)
    async with db.transaction() as session:
        targets = await select_models(session, models, lock=True)
        scenarios, has_rubric = await _scenarios_for_run(session, definition_id)
        sampled = sample_scenarios(scenarios, percentage)
        _check_size(len(sampled), len(targets))
        run = Run(
            definition_id=definition_id,
            sample_percentage=percentage,
            total=len(sampled) * len(targets),
            created_by=actor.name,
            max_cost=cap,
            summarize=has_rubric if summarize is None else summarize,
        )
        session.add(run)
        await session.flush()
        session.add_all(
            RunModel(run_id=run.id, model_id=t.model.id, position=i) for i, t in enumerate(targets)
        )
        if cap is not None:
            await record_expected_usage(session, run.id)
        jobs = await _insert_probes(session, run.id, sampled, targets)
        for entrypoint, probe_ids in jobs.items():
            await enqueue_probes_in_turn(session, entrypoint, probe_ids)
    logger.info(
        "run %s created by %s: definition %s, %d scenarios x %s",
        run.id,
        actor.name,
        definition_id,
        len(sampled),
        ", ".join(t.label for t in targets),
    )
    return run

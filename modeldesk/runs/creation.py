"""Creating a run: the run, its target models, one probe per (scenario, model) and
one queued job per probe, all in one transaction, so a run is never half-queued.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth.principal import Principal
from modeldesk.db.job_queue import enqueue_jobs, probe_entrypoint
from modeldesk.db.run_tables import Definition, Probe, Run, RunModel, Scenario
from modeldesk.db.session import Database
from modeldesk.errors import NotFoundError, ValidationError
from modeldesk.runs.inputs import clean_sample_percentage
from modeldesk.runs.model_selection import TargetModel, select_models
from modeldesk.runs.sampling import sample_scenarios

logger = logging.getLogger(__name__)

# Ten models over the largest definition; beyond it a run is almost surely a mistake.
MAX_PROBES_PER_RUN = 10_000


async def _scenarios_for_run(session: AsyncSession, definition_id: int) -> list[Scenario]:
    """The current scenarios, read under a share lock so no expansion swaps them meanwhile."""
    definition = await session.scalar(
        select(Definition.id).where(Definition.id == definition_id).with_for_update(read=True)
    )
    if definition is None:
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
    return scenarios


def _check_size(scenarios: int, models: int) -> None:
    if scenarios * models > MAX_PROBES_PER_RUN:
        raise ValidationError(
            f"{scenarios} scenarios x {models} models make {scenarios * models} probes; "
            f"a run holds at most {MAX_PROBES_PER_RUN}. Lower samplePercentage or pick "
            "fewer models.",
            field="samplePercentage",
        )


async def _insert_probes(
    session: AsyncSession, run_id: int, scenarios: Sequence[Scenario], targets: list[TargetModel]
) -> dict[str, list[dict[str, int]]]:
    """Insert the probes and return their job payloads grouped by entrypoint."""
    rows = [
        {"run_id": run_id, "scenario_id": scenario.id, "model_id": target.model.id}
        for scenario in scenarios
        for target in targets
    ]
    inserted = await session.execute(insert(Probe).returning(Probe.id, Probe.model_id), rows)
    entrypoint_of = {t.model.id: probe_entrypoint(t.provider.name) for t in targets}
    jobs: dict[str, list[dict[str, int]]] = defaultdict(list)
    for probe_id, model_id in inserted.all():
        jobs[entrypoint_of[model_id]].append({"probe_id": probe_id})
    return jobs


async def create_run(
    db: Database,
    actor: Principal,
    definition_id: int,
    models: Sequence[str] | None = None,
    sample_percentage: Any = None,
) -> Run:
    """Create and queue a run of the definition's current scenarios.

    `models` are database ids ("12") or "provider/model_id"; none means the
    default model of every enabled provider with a configured key. Unknown,
    deprecated and disabled models are refused together (see
    `model_selection`). `sample_percentage` (0-100], default 100, picks a
    deterministic subset of the scenarios (`sampling`).
    """
    actor.require_admin("creating a run")
    percentage = clean_sample_percentage(sample_percentage)
    targets = await select_models(db, models)
    async with db.transaction() as session:
        sampled = sample_scenarios(await _scenarios_for_run(session, definition_id), percentage)
        _check_size(len(sampled), len(targets))
        run = Run(
            definition_id=definition_id,
            sample_percentage=percentage,
            total=len(sampled) * len(targets),
            created_by=actor.name,
        )
        session.add(run)
        await session.flush()
        session.add_all(
            RunModel(run_id=run.id, model_id=t.model.id, position=i) for i, t in enumerate(targets)
        )
        jobs = await _insert_probes(session, run.id, sampled, targets)
        for entrypoint, payloads in jobs.items():
            await enqueue_jobs(session, entrypoint, payloads)
    logger.info(
        "run %s created by %s: definition %s, %d scenarios x %s",
        run.id,
        actor.name,
        definition_id,
        len(sampled),
        ", ".join(t.label for t in targets),
    )
    return run

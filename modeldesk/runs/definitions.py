"""Definitions and their scenarios: creation, combinatorial expansion, reads.

Writes take the acting `Principal` and refuse non-admins themselves; reads
answer whole batches with one query each, for DataLoaders and list pages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from modeldesk.auth import Principal
from modeldesk.db.reads import required, row_by_key, rows_by_ids, rows_grouped_by
from modeldesk.db.run_tables import Definition, Scenario
from modeldesk.db.session import Database
from modeldesk.input_rules import is_db_id
from modeldesk.runs.inputs import DefinitionCreate
from modeldesk.runs.scenario_store import ScenarioSource, lock_definition, replace_scenarios
from modeldesk.runs.templates import Dimension, expand_combinations

logger = logging.getLogger(__name__)


def definition_dimensions(definition: Definition) -> tuple[Dimension, ...]:
    return tuple(Dimension.from_json(item) for item in definition.dimensions or [])


def _initial_scenarios(spec: DefinitionCreate) -> tuple[list[str], ScenarioSource]:
    """Listed scenarios win; else every combination of levels; else the template itself."""
    if spec.scenarios:
        return list(spec.scenarios), "explicit"
    if spec.dimensions:
        return expand_combinations(spec.template, spec.dimensions), "combinatorial"
    return [spec.template], "explicit"


async def create_definition(
    db: Database,
    actor: Principal,
    *,
    name: str,
    template: str,
    preamble: str | None = None,
    dimensions: Sequence[Any] | None = None,
    scenarios: Sequence[Any] | None = None,
    rubric: str | None = None,
) -> Definition:
    """Create a definition with its first scenarios.

    `rubric`, when given, is how the summarization model judges each answer of
    the definition's runs (SPEC 9.5); runs then summarize by default.

    `dimensions` is a list of `{"name", "levels"}`; every `{{placeholder}}` of
    the template must name one. With no `scenarios` listed, the scenarios are
    every combination of the dimension levels (refused beyond `MAX_SCENARIOS`),
    or the template itself when it has no dimensions.
    """
    actor.require_admin("creating a definition")
    spec = DefinitionCreate.parse(
        name=name,
        template=template,
        preamble=preamble,
        dimensions=dimensions,
        scenarios=scenarios,
        rubric=rubric,
    )
    texts, source = _initial_scenarios(spec)
    async with db.transaction() as session:
        definition = Definition(
            name=spec.name,
            preamble=spec.preamble,
            rubric=spec.rubric,
            template=spec.template,
            dimensions=[d.to_json() for d in spec.dimensions],
            created_by=actor.name,
        )
        session.add(definition)
        await session.flush()
        await replace_scenarios(session, definition.id, texts, source)
    logger.info(
        "definition %s %r created by %s with %d %s scenarios",
        definition.id,
        definition.name,
        actor.name,
        len(texts),
        source,
    )
    return definition


async def expand_combinatorially(db: Database, actor: Principal, definition_id: int) -> int:
    """Replace the definition's scenarios with every combination of its levels; returns the count.

    No LLM is involved. The old scenarios stay (superseded) for the runs that used them.
    """
    actor.require_admin("expanding scenarios")
    async with db.transaction() as session:
        definition = await lock_definition(session, definition_id)
        texts = expand_combinations(definition.template, definition_dimensions(definition))
        await replace_scenarios(session, definition_id, texts, "combinatorial")
    logger.info(
        "definition %s: %d combinatorial scenarios stored by %s",
        definition_id,
        len(texts),
        actor.name,
    )
    return len(texts)


async def list_definitions(db: Database, *, limit: int = 100, offset: int = 0) -> list[Definition]:
    """Newest first."""
    async with db.session() as session:
        rows = await session.scalars(
            select(Definition).order_by(Definition.id.desc()).limit(limit).offset(offset)
        )
        return list(rows)


async def find_definition(db: Database, definition_id: int) -> Definition | None:
    """The definition, or None when there is none (the API's nullable lookup)."""
    return await row_by_key(db, Definition, definition_id) if is_db_id(definition_id) else None


async def get_definition(db: Database, definition_id: int) -> Definition:
    definition = await find_definition(db, definition_id)
    return required(definition, f"No definition with id {definition_id}.")


async def definitions_by_ids(db: Database, ids: Sequence[int]) -> dict[int, Definition]:
    return await rows_by_ids(db, Definition, ids)


async def scenarios_by_definition_ids(
    db: Database, definition_ids: Sequence[int]
) -> dict[int, list[Scenario]]:
    """Each definition's current scenarios, in order, in one query."""
    current = select(Scenario).where(Scenario.is_current.is_(True)).order_by(Scenario.position)
    return await rows_grouped_by(db, Scenario.definition_id, definition_ids, current)


async def scenarios_by_ids(db: Database, ids: Sequence[int]) -> dict[int, Scenario]:
    """Scenarios by id, superseded ones included (a run's transcripts may name them)."""
    return await rows_by_ids(db, Scenario, ids)

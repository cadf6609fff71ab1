"""Storing a definition's scenarios so that no expansion ever loses the old ones.

Scenarios are never deleted: runs refer to them (RESTRICT). A replacement marks
the current set as superseded and inserts the new set in the same transaction,
so a failed or interrupted expansion leaves the previous scenarios in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.run_tables import Definition, Scenario
from modeldesk.db.session import session_driver_connection
from modeldesk.errors import NotFoundError, ValidationError
from modeldesk.runs.templates import MAX_SCENARIOS

ScenarioSource = Literal["explicit", "combinatorial", "llm"]

_INSERT_SCENARIOS_SQL = """
INSERT INTO scenarios (definition_id, position, text, source)
SELECT $1, n - 1, text, $3 FROM unnest($2::text[]) WITH ORDINALITY AS u(text, n)
"""


async def lock_definition(session: AsyncSession, definition_id: int) -> Definition:
    """The definition, locked so concurrent expansions of it apply one after the other."""
    definition = await session.scalar(
        select(Definition).where(Definition.id == definition_id).with_for_update()
    )
    if definition is None:
        raise NotFoundError(f"No definition with id {definition_id}.")
    return definition


async def replace_scenarios(
    session: AsyncSession,
    definition_id: int,
    texts: Sequence[str],
    source: ScenarioSource,
) -> None:
    """Make `texts` (duplicates dropped) the definition's current scenarios.

    The caller holds the definition's lock (`lock_definition`).
    """
    new_texts = list(dict.fromkeys(texts))
    if len(new_texts) > MAX_SCENARIOS:
        raise ValidationError(
            f"A definition holds at most {MAX_SCENARIOS} scenarios; this would make "
            f"{len(new_texts)}.",
            field="scenarios",
        )
    await session.execute(
        update(Scenario)
        .where(Scenario.definition_id == definition_id, Scenario.is_current.is_(True))
        .values(is_current=False)
    )
    if new_texts:
        # One statement through the driver: 20,000 scenarios through SQLAlchemy's
        # parameter processing would hold the event loop for most of a second.
        await (await session_driver_connection(session)).execute(
            _INSERT_SCENARIOS_SQL, definition_id, new_texts, source
        )

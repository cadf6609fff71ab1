"""Storing a definition's scenarios so that no expansion ever loses the old ones.

Scenarios are never deleted: runs refer to them (RESTRICT). A replacement marks
the current set as superseded and inserts the new set in the same transaction,
so a failed or interrupted expansion leaves the previous scenarios in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.run_tables import Definition, Scenario
from modeldesk.errors import NotFoundError, ValidationError
from modeldesk.runs.templates import MAX_SCENARIOS

ScenarioSource = Literal["explicit", "combinatorial", "llm"]


async def lock_definition(session: AsyncSession, definition_id: int) -> Definition:
    """The definition, locked so concurrent expansions of it apply one after the other."""
    definition = await session.scalar(
        select(Definition).where(Definition.id == definition_id).with_for_update()
    )
    if definition is None:
        raise NotFoundError(f"No definition with id {definition_id}.")
    return definition


async def store_scenarios(
    session: AsyncSession,
    definition_id: int,
    texts: Sequence[str],
    source: ScenarioSource,
    *,
    replace: bool,
) -> int:
    """Make `texts` the definition's scenarios (`replace`) or add them; returns how many were added.

    The caller holds the definition's lock (`lock_definition`). Appending skips
    texts the definition already has.
    """
    current = await session.scalars(
        select(Scenario.text).where(
            Scenario.definition_id == definition_id, Scenario.is_current.is_(True)
        )
    )
    existing = set() if replace else set(current)
    new_texts = [text for text in dict.fromkeys(texts) if text not in existing]
    if len(existing) + len(new_texts) > MAX_SCENARIOS:
        raise ValidationError(
            f"A definition holds at most {MAX_SCENARIOS} scenarios; this would make "
            f"{len(existing) + len(new_texts)}.",
            field="scenarios",
        )
    if replace:
        await session.execute(
            update(Scenario)
            .where(Scenario.definition_id == definition_id, Scenario.is_current.is_(True))
            .values(is_current=False)
        )
        start = 0
    else:
        last = await session.scalar(
            select(func.max(Scenario.position)).where(
                Scenario.definition_id == definition_id, Scenario.is_current.is_(True)
            )
        )
        start = 0 if last is None else last + 1
    if new_texts:
        await session.execute(
            insert(Scenario),
            [
                {
                    "definition_id": definition_id,
                    "position": start + offset,
                    "text": text,
                    "source": source,
                }
                for offset, text in enumerate(new_texts)
            ],
        )
    return len(new_texts)

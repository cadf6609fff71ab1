"""A definition's rubric: how the summarization model judges its runs' answers (SPEC 9.5).

Set when the definition is created (`create_definition`) and edited here, from
the new-run page; a run reads it when its answers are judged, so an edit
applies to the summaries queued from then on.
"""

from __future__ import annotations

import logging

from modeldesk.auth import Principal
from modeldesk.db.run_tables import Definition
from modeldesk.db.session import Database
from modeldesk.runs.inputs import clean_rubric
from modeldesk.runs.scenario_store import lock_definition

logger = logging.getLogger(__name__)


async def set_definition_rubric(
    db: Database, actor: Principal, definition_id: int, rubric: str | None
) -> Definition:
    """Replace the definition's rubric (None or blank removes it); returns the definition."""
    actor.require_admin("editing a definition's rubric")
    cleaned = clean_rubric(rubric)
    async with db.transaction() as session:
        definition = await lock_definition(session, definition_id)
        definition.rubric = cleaned
    logger.info(
        "definition %s: rubric %s by %s",
        definition_id,
        "removed" if cleaned is None else "set",
        actor.name,
    )
    return definition

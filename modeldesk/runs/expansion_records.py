"""The database side of an LLM expansion: its state and retry counters on the definition.

Every write here applies only while the definition is `QUEUED`, i.e. still
waiting for the expansion this job was queued for. A job delivered again
after its expansion finished (a worker died before the queue heard of it),
or a second job for the same definition, then changes nothing: the first
result to land is the one kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Update, update

from modeldesk.db.run_tables import Definition
from modeldesk.db.session import Database
from modeldesk.enums import ExpansionStatus
from modeldesk.llm import RetryState
from modeldesk.runs.scenario_store import lock_definition, replace_scenarios

PENDING_STATUS = ExpansionStatus.QUEUED


def _while_pending(definition_id: int) -> Update:
    return update(Definition).where(
        Definition.id == definition_id, Definition.expansion_status == PENDING_STATUS
    )


def expansion_retry_state(definition: Definition) -> RetryState:
    return RetryState(
        rate_limit_retries=definition.expansion_rate_limit_retries,
        transient_retries=definition.expansion_transient_retries,
    )


def mark_expansion_queued(definition: Definition) -> None:
    """A new request: QUEUED, with the backoff schedule and error count from the start."""
    definition.expansion_status = PENDING_STATUS
    definition.expansion_error = None
    definition.expansion_rate_limit_retries = 0
    definition.expansion_transient_retries = 0
    definition.expansion_internal_errors = 0


async def record_expansion_success(db: Database, definition_id: int, texts: Sequence[str]) -> bool:
    """Make `texts` the current scenarios and mark SUCCEEDED; False if no longer pending."""
    async with db.transaction() as session:
        definition = await lock_definition(session, definition_id)
        if definition.expansion_status != PENDING_STATUS:
            return False
        await replace_scenarios(session, definition_id, texts, "llm")
        definition.expansion_status = ExpansionStatus.SUCCEEDED
        definition.expansion_error = None
    return True


async def record_expansion_failure(db: Database, definition_id: int, error: str) -> bool:
    """Mark FAILED with `error` (the old scenarios stay); False if no longer pending."""
    async with db.transaction() as session:
        result = await session.execute(
            _while_pending(definition_id)
            .values(expansion_status=ExpansionStatus.FAILED, expansion_error=error)
            .returning(Definition.id)
        )
        return result.first() is not None


async def record_expansion_retry(db: Database, definition_id: int, state: RetryState) -> bool:
    """Store the grown retry counters; False if the expansion is no longer pending."""
    async with db.transaction() as session:
        result = await session.execute(
            _while_pending(definition_id)
            .values(
                expansion_rate_limit_retries=state.rate_limit_retries,
                expansion_transient_retries=state.transient_retries,
            )
            .returning(Definition.id)
        )
        return result.first() is not None


async def count_expansion_internal_error(db: Database, definition_id: int) -> int | None:
    """Count an unexpected error of the expansion step; None if it is no longer pending."""
    async with db.transaction() as session:
        count: int | None = await session.scalar(
            _while_pending(definition_id)
            .values(expansion_internal_errors=Definition.expansion_internal_errors + 1)
            .returning(Definition.expansion_internal_errors)
        )
    return count

"""LLM scenario expansion, as a queued job run by the infrastructure model.

The model is `resolve_infra_model(db, "scenario_expansion")` (with its
fallback), never a run's target model. The new scenarios replace the old ones
only after the model has answered and the answer parsed, in one transaction;
a final failure is recorded on the definition (`expansion_status`,
`expansion_error`) and the old scenarios stay.

The job runs in two steps, so the queue can put the call through the same
admission as a probe's (provider enabled and not held, a free slot in its
per-minute window) between them: `prepare_expansion` resolves the model at
run time, `execute_expansion` makes the call and returns a `StepOutcome`. The
call follows the backoff policy of `modeldesk.llm` like a probe: rate limits
climb the schedule and hold the provider, 5xx and timeouts retry a bounded
number of times, anything else fails at once. The counters live on the
definition (`expansion_records`). A bug that escapes the steps is counted by
`handle_expansion_internal_error` and, at the bound, ends the expansion as
FAILED, so no definition stays QUEUED for ever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from modeldesk.auth import Principal
from modeldesk.catalog import resolve_infra_model
from modeldesk.config import Settings
from modeldesk.db.job_queue import EXPANSION_ENTRYPOINT, enqueue_jobs
from modeldesk.db.run_tables import Definition
from modeldesk.db.session import Database
from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.llm import (
    CompletionRequest,
    GiveUp,
    ProviderTarget,
    RetryState,
    complete,
)
from modeldesk.runs.definitions import definition_dimensions, get_definition
from modeldesk.runs.expansion_prompt import expansion_request, parse_scenarios
from modeldesk.runs.expansion_records import (
    PENDING_STATUS,
    count_expansion_internal_error,
    expansion_retry_state,
    mark_expansion_queued,
    record_expansion_failure,
    record_expansion_retry,
    record_expansion_success,
)
from modeldesk.runs.scenario_store import lock_definition
from modeldesk.runs.step_outcome import (
    StepOutcome,
    outcome_after_failure,
    outcome_after_internal_error,
)

logger = logging.getLogger(__name__)

EXPANSION_PURPOSE = "scenario_expansion"


@dataclass(frozen=True)
class ExpansionCall:
    """One attempt at a definition's expansion: the model resolved now, and its request."""

    definition_id: int
    provider_id: int
    provider_name: str
    model_id: str
    is_fallback: bool
    target: ProviderTarget
    request: CompletionRequest
    retry_state: RetryState

    @property
    def label(self) -> str:
        fallback = ", fallback model" if self.is_fallback else ""
        return (
            f"expansion of definition {self.definition_id} "
            f"({self.provider_name}/{self.model_id}{fallback})"
        )


async def request_scenario_expansion(
    db: Database, actor: Principal, definition_id: int
) -> Definition:
    """Queue an LLM expansion of the definition's scenarios; returns it marked QUEUED."""
    actor.require_admin("expanding scenarios")
    async with db.transaction() as session:
        definition = await lock_definition(session, definition_id)
        mark_expansion_queued(definition)
        await enqueue_jobs(session, EXPANSION_ENTRYPOINT, [{"definition_id": definition_id}])
    logger.info("definition %s: scenario expansion queued by %s", definition_id, actor.name)
    return definition


async def _fail(db: Database, definition_id: int, error: str) -> None:
    recorded = await record_expansion_failure(db, definition_id, error)
    if recorded:
        logger.warning("definition %s: scenario expansion failed: %s", definition_id, error)


async def prepare_expansion(db: Database, definition_id: int) -> ExpansionCall | None:
    """The call the `expand_scenarios` job is to make now, or None when there is none.

    None when the definition no longer waits for an expansion (a finished job
    delivered again) or when no model is usable (then recorded as FAILED).
    Raises `NotFoundError` for an unknown definition; database errors pass
    through, for the queue to retry those that mean "unavailable".
    """
    definition = await get_definition(db, definition_id)
    if definition.expansion_status != PENDING_STATUS:
        logger.info(
            "definition %s: no expansion pending (%s); nothing to do",
            definition_id,
            definition.expansion_status,
        )
        return None
    try:
        infra = await resolve_infra_model(db, EXPANSION_PURPOSE)
        target = infra.target()
    except ModeldeskError as error:
        await _fail(db, definition_id, f"{error.code}: {error.message}")
        return None
    return ExpansionCall(
        definition_id=definition_id,
        provider_id=infra.provider.id,
        provider_name=infra.provider.name,
        model_id=infra.model.model_id,
        is_fallback=infra.is_fallback,
        target=target,
        request=expansion_request(
            name=definition.name,
            preamble=definition.preamble,
            template=definition.template,
            dimensions=definition_dimensions(definition),
        ),
        retry_state=expansion_retry_state(definition),
    )


async def _after_failure(
    db: Database, settings: Settings, call: ExpansionCall, error: ModeldeskError
) -> StepOutcome:
    async def record_final(step: GiveUp) -> None:
        await record_expansion_failure(db, call.definition_id, f"{step.code}: {step.message}")

    async def record_next_try(state: RetryState) -> bool:
        return await record_expansion_retry(db, call.definition_id, state)

    return await outcome_after_failure(
        call.label,
        call.provider_id,
        error,
        call.retry_state,
        settings,
        record_failure=record_final,
        record_retry=record_next_try,
    )


async def execute_expansion(
    db: Database, settings: Settings, client: httpx.AsyncClient, call: ExpansionCall
) -> StepOutcome:
    """Ask the model once; store its scenarios, or record the failure or the retry.

    Database errors pass through, for the queue to retry those that mean "unavailable".
    """
    try:
        completion = await complete(client, call.target, call.request)
        texts = parse_scenarios(completion.text)
    except ModeldeskError as error:
        return await _after_failure(db, settings, call, error)
    stored = await record_expansion_success(db, call.definition_id, texts)
    if stored:
        logger.info("%s: %d scenarios generated", call.label, len(texts))
    else:
        logger.info("%s: finished meanwhile; this answer is not kept", call.label)
    return StepOutcome("done", call.provider_id)


async def handle_expansion_internal_error(
    db: Database, definition_id: int, error: BaseException
) -> StepOutcome:
    """Count a bug that escaped the steps; retry, or record the expansion FAILED at the bound.

    Database errors pass through (see `execute_expansion`).
    """

    async def count_error(message: str) -> int | None:
        return await count_expansion_internal_error(db, definition_id)

    async def record_final(message: str) -> None:
        await _fail(db, definition_id, f"{ErrorCode.PROVIDER_ERROR}: {message}")

    return await outcome_after_internal_error(
        f"expansion of definition {definition_id}",
        None,
        error,
        step="expansion",
        count_error=count_error,
        record_failure=record_final,
    )

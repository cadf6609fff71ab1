"""One summarization job, end to end: claim, gate, ask the judge, record.

The queue runs `execute_summary` for a `{"summary_id": N}` job in the judge
provider's `probe.<name>` queue, after the provider's admission (see
`queue.summary_jobs`), and acts on the returned `StepOutcome` as for a probe:
a paused run's summary comes back later, a provider failure follows the
backoff policy (rate limits hold the provider), and a capped run reserves the
call's expected cost first. A malformed answer is asked again once, then
recorded as the summary's failure; the probe stays succeeded either way.
"""

from __future__ import annotations

import logging

import httpx

from modeldesk.catalog import model_target, quote_of
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import InfraWorkStatus, RunStatus
from modeldesk.errors import ErrorCode, ModeldeskError, NotFoundError
from modeldesk.llm import (
    GiveUp,
    RetryState,
    complete,
    fallback_quote,
    price_usage,
    snapshot_cost,
)
from modeldesk.runs.analysis_queue import summary_recorded
from modeldesk.runs.call_gate import PAUSED_RECHECK_SECONDS
from modeldesk.runs.estimate import fallback_usage
from modeldesk.runs.judge_prompt import JudgeAnswerError, judge_request, parse_verdict
from modeldesk.runs.step_outcome import (
    StepOutcome,
    outcome_after_failure,
    outcome_after_internal_error,
)
from modeldesk.runs.summaries import (
    SummaryCall,
    SummaryResult,
    SummaryWaits,
    claim_summary,
    count_summary_internal_error,
    fail_waiting_summary,
    record_summary_attempt,
    reserve_summary_call,
)

logger = logging.getLogger(__name__)

# A malformed answer is asked again this many times before the summary fails.
MALFORMED_RETRIES = 1


async def _judge(db: Database, model_pk: int) -> tuple[LlmModel, LlmProvider]:
    async with db.session() as session:
        model = await session.get(LlmModel, model_pk)
        provider = None if model is None else await session.get(LlmProvider, model.provider_id)
    if model is None or provider is None:
        raise NotFoundError(f"No model with id {model_pk}.")
    return model, provider


async def _when_waiting(db: Database, transcript_id: int, waits: SummaryWaits) -> StepOutcome:
    if waits.already is not None:
        return StepOutcome("done", None)
    if waits.run_status == RunStatus.PAUSED:
        return StepOutcome("retry", None, delay_seconds=PAUSED_RECHECK_SECONDS)
    # The summary's error code is the state of its run that ended it.
    await fail_waiting_summary(db, transcript_id, RunStatus.CANCELLED, "the run was cancelled")
    await summary_recorded(db, waits.run_id)
    return StepOutcome("done", None)


async def _after_failure(
    db: Database, settings: Settings, call: SummaryCall, provider_id: int, error: ModeldeskError
) -> StepOutcome:
    async def record(status: InfraWorkStatus, code: str, message: str, state: RetryState) -> bool:
        result = SummaryResult(status, None, None, code, message, call.malformed_answers, state)
        return await record_summary_attempt(db, call, result, None)

    async def record_final(step: GiveUp) -> None:
        await record(InfraWorkStatus.FAILED, step.code.value, step.message, call.retry_state)

    async def record_next_try(state: RetryState) -> bool:
        return await record(InfraWorkStatus.PENDING, error.code.value, error.message, state)

    return await outcome_after_failure(
        call.label,
        provider_id,
        error,
        call.retry_state,
        settings,
        record_failure=record_final,
        record_retry=record_next_try,
    )


async def execute_summary(
    db: Database, settings: Settings, client: httpx.AsyncClient, transcript_id: int
) -> StepOutcome:
    """Judge one transcript once and record the outcome; safe to call again for it."""
    claimed = await claim_summary(db, transcript_id)
    if claimed is None:
        raise NotFoundError(f"No summary of transcript {transcript_id}.")
    if isinstance(claimed, SummaryWaits):
        return await _when_waiting(db, transcript_id, claimed)
    model, provider = await _judge(db, claimed.judge_model_id)
    request = judge_request(
        scenario=claimed.scenario,
        answer=claimed.answer,
        rubric=claimed.rubric,
        preamble=claimed.preamble,
    )
    prices = quote_of(model)
    fallback = fallback_quote(provider.default_input_price, provider.default_output_price, settings)
    if claimed.max_cost is not None:
        prompt = "\n".join(message.content for message in request.messages)
        expected = price_usage(fallback_usage(None, prompt), prices, fallback)[1]
        reservation = await reserve_summary_call(db, claimed, expected)
        if reservation == "ended":
            # Another delivery of the job ended it since the claim, and reports it.
            logger.info("%s: ended by another delivery; not called", claimed.label)
            return StepOutcome("done", provider.id)
        if reservation == "over_cap":
            logger.warning("%s: would pass the run's cap; not summarized", claimed.label)
            await fail_waiting_summary(
                db,
                transcript_id,
                ErrorCode.BUDGET_EXCEEDED.value,
                "the judge's call would pass the run's budget cap",
            )
            await summary_recorded(db, claimed.run_id)
            return StepOutcome("done", provider.id)
    try:
        completion = await complete(client, model_target(model, provider), request)
    except ModeldeskError as error:
        outcome = await _after_failure(db, settings, claimed, provider.id, error)
        if outcome.kind == "done":
            await summary_recorded(db, claimed.run_id)
        return outcome
    snapshot = snapshot_cost(completion.usage, prices, fallback=fallback, context=claimed.label)
    try:
        verdict = parse_verdict(completion.text)
    except JudgeAnswerError as error:
        malformed = claimed.malformed_answers + 1
        again = malformed <= MALFORMED_RETRIES
        what_next = "asking again" if again else "recorded as failed"
        logger.warning("%s: malformed answer %d, %s", claimed.label, malformed, what_next)
        result = SummaryResult(
            InfraWorkStatus.PENDING if again else InfraWorkStatus.FAILED,
            error_code=error.code.value,
            error_message=error.message,
            malformed_answers=malformed,
            retry_state=claimed.retry_state,
        )
        await record_summary_attempt(db, claimed, result, snapshot)
        if again:
            return StepOutcome("retry", provider.id)
        await summary_recorded(db, claimed.run_id)
        return StepOutcome("done", provider.id)
    result = SummaryResult(
        InfraWorkStatus.COMPLETED,
        score=verdict.score,
        summary=verdict.summary,
        malformed_answers=claimed.malformed_answers,
        retry_state=claimed.retry_state,
    )
    if await record_summary_attempt(db, claimed, result, snapshot):
        logger.info("%s: scored %s", claimed.label, verdict.score)
    await summary_recorded(db, claimed.run_id)
    return StepOutcome("done", provider.id)


async def handle_summary_internal_error(
    db: Database, transcript_id: int, error: BaseException
) -> StepOutcome:
    """Count a bug that escaped the step; retry, or record the summary failed at the bound."""
    code = ErrorCode.PROVIDER_ERROR.value

    async def count_error(message: str) -> int | None:
        return await count_summary_internal_error(db, transcript_id)

    async def record_final(message: str) -> None:
        run_id = await fail_waiting_summary(db, transcript_id, code, message)
        if run_id is not None:
            await summary_recorded(db, run_id)

    return await outcome_after_internal_error(
        f"summary of transcript {transcript_id}",
        None,
        error,
        step="summary",
        count_error=count_error,
        record_failure=record_final,
    )

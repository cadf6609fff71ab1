"""One probe, end to end: claim it, call the provider, record what happened.

The queue calls `execute_probe` for each `probe.<provider>` job and acts on
the returned `StepOutcome` (see `step_outcome`).

Failures follow the backoff policy of `modeldesk.llm`: rate limits climb the
configured schedule (the counter lives on the probe row and never resets) and
end in RATE_LIMITED with retryable=true; 5xx and timeouts retry a bounded
number of times; 400/401/403/404 fail at once. A final failure is recorded
and counted in the run's progress, so a run always finishes.

An error that escapes the step is a bug, not a provider failure. The queue
reports it with `handle_internal_error`: the probe runs again a few times (the
bug may be a passing one) and is then recorded as failed with
PROVIDER_ERROR, retryable, so its run still finishes.
"""

from __future__ import annotations

import logging

import httpx

from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.llm import (
    Completion,
    CompletionRequest,
    GiveUp,
    RetryState,
    complete,
    make_target,
    snapshot_cost,
)
from modeldesk.log_format import bind_log_context
from modeldesk.runs.analysis_queue import summary_recorded
from modeldesk.runs.call_gate import admission_delay, gate_call, outcome_when_not_claimed
from modeldesk.runs.probe_records import (
    ClaimedProbe,
    NotAdmitted,
    QueueJob,
    Skipped,
    claim_probe,
    count_internal_error,
    record_failure,
    record_retry,
    record_success,
)
from modeldesk.runs.step_outcome import (
    StepOutcome,
    outcome_after_failure,
    outcome_after_internal_error,
)
from modeldesk.runs.summaries import after_probe_recorded

logger = logging.getLogger(__name__)


async def _call(client: httpx.AsyncClient, claimed: ClaimedProbe) -> Completion:
    """The provider call; every failure comes out as a classified `ModeldeskError`."""
    try:
        target = make_target(
            provider_name=claimed.provider_name,
            api_style=claimed.api_style,
            model_id=claimed.model_id,
            base_url=claimed.base_url,
            api_key_env=claimed.api_key_env,
        )
        request = CompletionRequest.from_prompt(claimed.prompt, system=claimed.preamble)
        return await complete(client, target, request)
    except ModeldeskError:
        raise
    except Exception as exc:
        # A bug in reading an odd response must not leave the probe (and its run)
        # unfinished forever: record it as a provider error and keep going.
        logger.exception("%s: unexpected error during the call", claimed.label)
        raise ModeldeskError(
            f"unexpected error during the call: {type(exc).__name__}",
            code=ErrorCode.PROVIDER_ERROR,
            retryable=False,
        ) from exc


async def _after_recorded(db: Database, probe_id: int, job: QueueJob | None) -> None:
    """Queue what follows the outcome (a summary, the analysis of a finished run).

    A job ended with the record is one of a run that does not summarize, for
    which nothing follows: the round trip is saved.
    """
    if job is None or not job.finished:
        await after_probe_recorded(db, probe_id)


def _not_admitted(settings: Settings, refused: NotAdmitted, probe_id: int) -> StepOutcome:
    """Back to the queue until the provider could take the call; nothing was claimed."""
    wait = admission_delay(refused.wait_seconds, settings)
    logger.debug("probe %s waits %.2f s: provider %s", probe_id, wait, refused.reason)
    return StepOutcome("retry", refused.provider_id, delay_seconds=wait)


async def _after_failure(
    db: Database,
    settings: Settings,
    claimed: ClaimedProbe,
    error: ModeldeskError,
    job: QueueJob | None,
) -> StepOutcome:
    async def record_final(step: GiveUp) -> None:
        await record_failure(
            db,
            claimed.probe_id,
            code=step.code.value,
            message=step.message,
            retryable=step.retryable,
            job=job,
        )
        await _after_recorded(db, claimed.probe_id, job)  # it may have finished its run

    async def record_next_try(state: RetryState) -> bool:
        return await record_retry(db, claimed, state, code=error.code.value, message=error.message)

    return await outcome_after_failure(
        claimed.label,
        claimed.provider_id,
        error,
        claimed.retry_state,
        settings,
        record_failure=record_final,
        record_retry=record_next_try,
    )


async def execute_probe(
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    probe_id: int,
    job: QueueJob | None = None,
) -> StepOutcome:
    """Run probe `probe_id` once and record the outcome; safe to call again for the same probe.

    Run for a queue `job`, the call first passes its provider's admission (a
    retry outcome when it may not start), and the record ends the job when it
    can (`QueueJob.finished`).

    Raises `DatabaseUnavailableError` (retryable) when PostgreSQL cannot be
    reached, and `NotFoundError` for a probe that does not exist.
    """
    claimed = await claim_probe(db, settings, probe_id, job)
    if isinstance(claimed, NotAdmitted):
        return _not_admitted(settings, claimed, probe_id)
    if isinstance(claimed, Skipped):
        logger.info("probe %s skipped: %s", probe_id, claimed.reason)
        outcome = await outcome_when_not_claimed(db, claimed)
        if claimed.run_id is not None:  # skipping may have finished a summarizing run
            await summary_recorded(db, claimed.run_id)
        return outcome
    gated = await gate_call(db, claimed)  # a capped run's call reserves its expected cost
    if gated is not None:
        await summary_recorded(db, claimed.run_id)  # a stop at the cap may finish the run
        return gated
    # The worker runs each step in a task of its own, so this ends with the step.
    bind_log_context(run_id=claimed.run_id, provider=claimed.provider_name)
    try:
        completion = await _call(client, claimed)
    except ModeldeskError as error:
        return await _after_failure(db, settings, claimed, error, job)
    snapshot = snapshot_cost(
        completion.usage,
        claimed.prices,
        fallback=claimed.fallback_prices,
        context=claimed.label,
    )
    recorded = await record_success(
        db,
        claimed,
        response=completion.text,
        snapshot=snapshot,
        duration_ms=completion.duration_ms,
        job=job,
    )
    if not recorded:
        logger.info("%s: transcript already recorded by an earlier delivery", claimed.label)
    # Also on a re-delivery: the earlier one may have died before queueing the summary.
    await _after_recorded(db, claimed.probe_id, job)
    return StepOutcome("done", claimed.provider_id)


async def handle_internal_error(
    db: Database, provider_id: int, probe_id: int, error: BaseException
) -> StepOutcome:
    """Count a bug that escaped the step; retry the probe, or record it failed at the bound."""
    code = ErrorCode.PROVIDER_ERROR.value

    async def count_error(message: str) -> int | None:
        return await count_internal_error(db, probe_id, code=code, message=message)

    async def record_final(message: str) -> None:
        await record_failure(db, probe_id, code=code, message=message, retryable=True)

    return await outcome_after_internal_error(
        f"probe {probe_id}",
        provider_id,
        error,
        step="probe",
        count_error=count_error,
        record_failure=record_final,
    )

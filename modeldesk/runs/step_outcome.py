"""What a queued step (a probe, an LLM expansion) tells the queue to do next.

`done` needs nothing more; `retry` re-queues the job after `delay_seconds`
and, after a rate limit (`hold_provider`), holds the whole provider until then.
Steps never sleep: waiting is the queue's job, so a backing-off call holds
neither a worker nor a provider slot.

A failed provider call follows the backoff policy (`outcome_after_failure`).
An error that escapes a step is a bug, not a provider failure. The step runs
again a few times (the bug may be a passing one) and is then recorded as
failed, so nothing waits for it for ever (`outcome_after_internal_error`).
The steps differ only in where they record these, which they pass in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from modeldesk.config import Settings
from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.llm import BackoffPolicy, GiveUp, RetryState, decide

logger = logging.getLogger(__name__)

# Unexpected errors a step may meet before its work is recorded as failed, and
# the longest wait between its attempts.
MAX_INTERNAL_ERRORS = 3
_MAX_INTERNAL_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class CallFailure:
    """Why the provider call failed: shown in the live provider view, and as a hold's reason."""

    code: str
    message: str  # redacted by the adapter that raised it


@dataclass(frozen=True)
class StepOutcome:
    kind: Literal["done", "retry"]  # done: the result or the final failure is recorded
    # The provider called, if the step got that far; the one a hold applies to.
    provider_id: int | None
    delay_seconds: float = 0.0  # retry: run again after this delay
    hold_provider: bool = False  # retry after a rate limit: hold the whole provider until then
    failure: CallFailure | None = None  # the provider call failed (finally or not)

    def __post_init__(self) -> None:
        if self.hold_provider and self.provider_id is None:
            raise ValueError("holding a provider needs its id")


async def outcome_after_failure(
    label: str,
    provider_id: int,
    error: ModeldeskError,
    state: RetryState,
    settings: Settings,
    *,
    record_failure: Callable[[GiveUp], Awaitable[object]],
    record_retry: Callable[[RetryState], Awaitable[bool]],
) -> StepOutcome:
    """Record the final failure, or the grown retry counters and the retry to queue.

    `record_retry` returns False when the work is no longer pending (a
    cancelled run, a finished expansion); then nothing is retried.
    """
    failure = CallFailure(error.code.value, error.message)
    step = decide(error, state, BackoffPolicy.from_settings(settings))
    if isinstance(step, GiveUp):
        await record_failure(step)
        logger.warning(
            "%s failed: %s: %s (retryable=%s)", label, step.code, step.message, step.retryable
        )
        return StepOutcome("done", provider_id, failure=failure)
    if not await record_retry(step.state):
        logger.info("%s: no longer pending (cancelled or finished meanwhile); not retrying", label)
        return StepOutcome("done", provider_id, failure=failure)
    logger.info(
        "%s: %s; retry in %.1f s (rate-limit retries %d, transient retries %d)",
        label,
        error.code,
        step.delay,
        step.state.rate_limit_retries,
        step.state.transient_retries,
    )
    is_rate_limit = error.code is ErrorCode.RATE_LIMITED
    return StepOutcome(
        "retry",
        provider_id,
        delay_seconds=step.delay,
        hold_provider=is_rate_limit,
        failure=failure,
    )


async def outcome_after_internal_error(
    label: str,
    provider_id: int | None,
    error: BaseException,
    *,
    step: Literal["probe", "expansion", "summary", "analysis"],
    count_error: Callable[[str], Awaitable[int | None]],
    record_failure: Callable[[str], Awaitable[object]],
) -> StepOutcome:
    """Count a bug that escaped the step; retry it, or record it failed at the bound.

    `count_error(message)` returns the errors counted so far, None when the
    work has already finished; `record_failure(message)` ends it as failed.
    """
    message = f"internal error in the {step} step: {type(error).__name__}: {error}"
    count = await count_error(message)
    if count is None:
        logger.error("%s: %s (already finished)", label, message, exc_info=error)
        return StepOutcome("done", provider_id)
    if count < MAX_INTERNAL_ERRORS:
        delay = min(_MAX_INTERNAL_RETRY_SECONDS, 2.0**count)
        logger.error(
            "%s: %s; attempt %d of %d, retry in %.0f s",
            label,
            message,
            count,
            MAX_INTERNAL_ERRORS,
            delay,
            exc_info=error,
        )
        return StepOutcome("retry", provider_id, delay_seconds=delay)
    await record_failure(message)
    logger.error(
        "%s: %s; recorded as failed after %d attempts", label, message, count, exc_info=error
    )
    return StepOutcome("done", provider_id)

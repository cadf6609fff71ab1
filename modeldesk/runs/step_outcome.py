"""What a queued step (a probe, an LLM expansion) tells the queue to do next.

`done` needs nothing more; `retry` re-queues the job after `delay_seconds`
and, after a rate limit (`hold_provider`), holds the whole provider until then.
Steps never sleep: waiting is the queue's job, so a backing-off call holds
neither a worker nor a provider slot.

An error that escapes a step is a bug, not a provider failure. The step runs
again a few times (the bug may be a passing one, `retry_after_internal_error`)
and is then recorded as failed, so nothing waits for it for ever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

# Unexpected errors a step may meet before its work is recorded as failed, and
# the longest wait between its attempts.
MAX_INTERNAL_ERRORS = 3
_MAX_INTERNAL_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class StepOutcome:
    kind: Literal["done", "retry"]  # done: the result or the final failure is recorded
    # The provider called, if the step got that far; the one a hold applies to.
    provider_id: int | None
    delay_seconds: float = 0.0  # retry: run again after this delay
    hold_provider: bool = False  # retry after a rate limit: hold the whole provider until then

    def __post_init__(self) -> None:
        if self.hold_provider and self.provider_id is None:
            raise ValueError("holding a provider needs its id")


def retry_after_internal_error(
    label: str, message: str, count: int, error: BaseException, provider_id: int | None
) -> StepOutcome | None:
    """The logged retry after a step's `count`-th unexpected error; None once at the bound."""
    if count >= MAX_INTERNAL_ERRORS:
        return None
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

"""When to try a failed call again: a pure policy, no sleeping and no I/O.

The queue stores a `RetryState` with each job and asks `decide` after every
failure; a `Retry` means "re-queue the job (and hold its provider) for
`delay` seconds", a `GiveUp` means "record the failure with this code".

Rate limits and transient failures (5xx, timeouts, malformed bodies) have
separate counters. The rate-limit counter only ever grows for a job, so a rate
limit that arrives while the provider is already backing off continues the
schedule instead of restarting it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modeldesk.config import DEFAULT_RATE_LIMIT_BACKOFF, Settings
from modeldesk.errors import ErrorCode, ModeldeskError

_DEFAULT_RNG = random.Random()


@dataclass(frozen=True)
class BackoffPolicy:
    rate_limit_schedule: tuple[float, ...] = DEFAULT_RATE_LIMIT_BACKOFF
    transient_base: float = 1.0
    transient_cap: float = 4.0
    transient_max_retries: int = 3
    # A 503 may carry Retry-After too; honour it, but only up to this, since a
    # transient backoff is meant to stay short.
    transient_max_delay: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BackoffPolicy:
        return cls(rate_limit_schedule=settings.rate_limit_backoff)


@dataclass(frozen=True)
class RetryState:
    """How many retries of each kind a job has had; stored with the job."""

    rate_limit_retries: int = 0
    transient_retries: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "rate_limit_retries": self.rate_limit_retries,
            "transient_retries": self.transient_retries,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RetryState:
        data = data or {}
        return cls(
            rate_limit_retries=int(data.get("rate_limit_retries", 0)),
            transient_retries=int(data.get("transient_retries", 0)),
        )


@dataclass(frozen=True)
class Retry:
    delay: float
    state: RetryState


@dataclass(frozen=True)
class GiveUp:
    code: ErrorCode
    retryable: bool
    message: str


def rate_limit_delay(
    attempt: int, retry_after: float | None, schedule: Sequence[float]
) -> float | None:
    """Delay before rate-limit retry number `attempt` (0-based), or None to give up.

    A longer Retry-After from the provider wins over the schedule's step.
    """
    if attempt >= len(schedule):
        return None
    return max(schedule[attempt], retry_after or 0.0)


def transient_delay(
    attempt: int,
    retry_after: float | None,
    policy: BackoffPolicy,
    rng: random.Random | None = None,
) -> float | None:
    """Capped exponential delay with jitter before transient retry `attempt`, or None.

    Jitter takes the upper half of the step ("equal jitter") so that jobs that
    failed together spread out without any of them retrying at once.
    """
    if attempt >= policy.transient_max_retries:
        return None
    step = min(policy.transient_cap, policy.transient_base * 2.0**attempt)
    jittered = step / 2 + (rng or _DEFAULT_RNG).random() * step / 2
    return min(policy.transient_max_delay, max(jittered, retry_after or 0.0))


def decide(
    error: ModeldeskError,
    state: RetryState,
    policy: BackoffPolicy,
    rng: random.Random | None = None,
) -> Retry | GiveUp:
    """The next step for a job whose call just failed with `error`."""
    retry_after = getattr(error, "retry_after", None)
    if error.code is ErrorCode.RATE_LIMITED:
        delay = rate_limit_delay(state.rate_limit_retries, retry_after, policy.rate_limit_schedule)
        if delay is None:
            return GiveUp(
                code=ErrorCode.RATE_LIMITED,
                retryable=True,
                message=(
                    f"still rate limited after {state.rate_limit_retries} retries: {error.message}"
                ),
            )
        return Retry(
            delay=delay,
            state=RetryState(state.rate_limit_retries + 1, state.transient_retries),
        )
    if not error.retryable:
        return GiveUp(code=error.code, retryable=False, message=error.message)
    delay = transient_delay(state.transient_retries, retry_after, policy, rng)
    if delay is None:
        return GiveUp(
            code=error.code,
            retryable=True,
            message=f"still failing after {state.transient_retries} retries: {error.message}",
        )
    return Retry(
        delay=delay, state=RetryState(state.rate_limit_retries, state.transient_retries + 1)
    )

"""Prometheus counters of the provider calls this process made.

Counted in `complete`, the one function that sends a provider request, so
probe and expansion calls count alike and each HTTP request counts once
(a request refused before it is sent, for want of a key, is no call).
These are per-process figures: a scraper sums them over workers. What the
whole fleet is doing (in flight, queued, held) lives in PostgreSQL and is read
at scrape time instead (`runs.fleet_status`).
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Histogram

from modeldesk.errors import ErrorCode


class CallOutcome(StrEnum):
    SUCCESS = "success"
    RATE_LIMITED = "rate_limited"
    ERROR = "error"
    TIMEOUT = "timeout"


PROVIDER_CALLS = Counter(
    "modeldesk_provider_calls",
    "Provider calls made by this process, by provider and outcome.",
    ["provider", "outcome"],
)
# From tens of milliseconds (a cached answer) to the adapters' two-minute timeout.
PROVIDER_CALL_SECONDS = Histogram(
    "modeldesk_provider_call_seconds",
    "Duration of the provider calls made by this process, from request to parsed answer.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160),
)


def outcome_of(code: ErrorCode | None) -> CallOutcome:
    """The outcome label of a call that succeeded (None) or failed with `code`."""
    if code is None:
        return CallOutcome.SUCCESS
    if code is ErrorCode.RATE_LIMITED:
        return CallOutcome.RATE_LIMITED
    if code is ErrorCode.TIMEOUT:
        return CallOutcome.TIMEOUT
    return CallOutcome.ERROR


def record_call(provider: str, outcome: CallOutcome, seconds: float) -> None:
    PROVIDER_CALLS.labels(provider=provider, outcome=outcome.value).inc()
    PROVIDER_CALL_SECONDS.labels(provider=provider).observe(seconds)

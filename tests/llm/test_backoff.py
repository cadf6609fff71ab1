"""The backoff policy: schedule, Retry-After, give-up, and that nothing ever resets."""

from __future__ import annotations

import random

import httpx
import pytest
from llm_targets import TargetFactory

from modeldesk.config import load_settings
from modeldesk.enums import ApiStyle
from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.llm import (
    BackoffPolicy,
    CompletionRequest,
    GiveUp,
    ProviderCallError,
    Retry,
    RetryState,
    complete,
    decide,
    rate_limit_delay,
    transient_delay,
)
from modeldesk.testing import Outcome, Simulator

POLICY = BackoffPolicy()


def rate_limited(retry_after: float | None = None) -> ProviderCallError:
    return ProviderCallError(
        "429", code=ErrorCode.RATE_LIMITED, retryable=True, status_code=429, retry_after=retry_after
    )


def server_error(retry_after: float | None = None) -> ProviderCallError:
    return ProviderCallError(
        "503",
        code=ErrorCode.PROVIDER_ERROR,
        retryable=True,
        status_code=503,
        retry_after=retry_after,
    )


def run(
    errors: list[ModeldeskError], policy: BackoffPolicy = POLICY, rng: random.Random | None = None
) -> list[float | GiveUp]:
    """Feed failures in order, carrying the state through its JSON form as a queue would."""
    stored = RetryState().to_json()
    steps: list[float | GiveUp] = []
    for error in errors:
        decision = decide(error, RetryState.from_json(stored), policy, rng or random.Random(0))
        if isinstance(decision, GiveUp):
            steps.append(decision)
            break
        steps.append(decision.delay)
        stored = decision.state.to_json()
    return steps


def test_default_schedule_then_give_up_retryable() -> None:
    steps = run([rate_limited()] * 5)
    assert steps[:4] == [30.0, 60.0, 90.0, 120.0]
    give_up = steps[4]
    assert isinstance(give_up, GiveUp)
    assert give_up.code is ErrorCode.RATE_LIMITED
    assert give_up.retryable is True
    assert "4 retries" in give_up.message


def test_a_longer_retry_after_wins_and_a_shorter_one_does_not() -> None:
    assert run([rate_limited(200.0), rate_limited(5.0), rate_limited(90.0)]) == [200.0, 60.0, 90.0]


def test_a_rate_limit_during_a_wait_continues_the_schedule() -> None:
    # Transient failures between rate limits must not reset the rate-limit count.
    errors: list[ModeldeskError] = [rate_limited(), rate_limited(), server_error(), rate_limited()]
    steps = run(errors)
    assert steps[:2] == [30.0, 60.0]
    assert isinstance(steps[2], float) and steps[2] <= POLICY.transient_cap
    assert steps[3] == 90.0


def test_the_rate_limit_counter_only_grows() -> None:
    state = RetryState()
    seen = []
    for _ in range(4):
        decision = decide(rate_limited(), state, POLICY)
        assert isinstance(decision, Retry)
        seen.append(decision.state.rate_limit_retries)
        state = decision.state
    assert seen == [1, 2, 3, 4]


def test_schedule_from_the_environment() -> None:
    settings = load_settings({"MODELDESK_RATE_LIMIT_BACKOFF": "0.01, 0.02"})
    policy = BackoffPolicy.from_settings(settings)
    steps = run([rate_limited()] * 3, policy)
    assert steps[:2] == [0.01, 0.02]
    assert isinstance(steps[2], GiveUp) and steps[2].code is ErrorCode.RATE_LIMITED


def test_rate_limit_delay_function() -> None:
    schedule = (30.0, 60.0)
    assert rate_limit_delay(0, None, schedule) == 30.0
    assert rate_limit_delay(1, 61.5, schedule) == 61.5
    assert rate_limit_delay(2, 10.0, schedule) is None


@pytest.mark.parametrize("code", [ErrorCode.PROVIDER_ERROR, ErrorCode.TIMEOUT])
def test_transient_failures_back_off_briefly_and_give_up_after_three(code: ErrorCode) -> None:
    error = ProviderCallError("flaky", code=code, retryable=True)
    steps = run([error] * 4, rng=random.Random(42))
    delays = steps[:3]
    for attempt, delay in enumerate(delays):
        step = min(POLICY.transient_cap, 2.0**attempt)
        assert isinstance(delay, float)
        assert step / 2 <= delay <= step
    give_up = steps[3]
    assert isinstance(give_up, GiveUp)
    assert (give_up.code, give_up.retryable) == (code, True)


def test_jitter_is_injectable_and_deterministic() -> None:
    policy = BackoffPolicy(transient_max_retries=6)
    first = [transient_delay(n, None, policy, random.Random(7)) for n in range(6)]
    again = [transient_delay(n, None, policy, random.Random(7)) for n in range(6)]
    assert first == again
    assert all(d is not None and d <= policy.transient_cap for d in first)
    assert transient_delay(6, None, policy, random.Random(7)) is None


def test_transient_retry_after_is_honoured_but_bounded() -> None:
    assert run([server_error(retry_after=10.0)]) == [10.0]
    assert run([server_error(retry_after=3600.0)]) == [POLICY.transient_max_delay]


def test_non_retryable_errors_give_up_at_once() -> None:
    error = ProviderCallError("bad key", code=ErrorCode.AUTH_FAILED, retryable=False)
    decision = decide(error, RetryState(rate_limit_retries=2), POLICY)
    assert decision == GiveUp(code=ErrorCode.AUTH_FAILED, retryable=False, message="bad key")


def test_other_retryable_errors_use_the_transient_path() -> None:
    error = ModeldeskError("db down", code=ErrorCode.PROVIDER_ERROR, retryable=True)
    decision = decide(error, RetryState(), POLICY, random.Random(1))
    assert isinstance(decision, Retry)
    assert decision.state == RetryState(rate_limit_retries=0, transient_retries=1)


def test_retry_state_json_round_trip() -> None:
    state = RetryState(rate_limit_retries=3, transient_retries=1)
    assert RetryState.from_json(state.to_json()) == state
    assert RetryState.from_json(None) == RetryState()


async def test_policy_drives_calls_to_success_against_the_simulator(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    """The loop the queue runs, minus the waiting: re-call after each Retry."""
    sim.configure(
        "m", outcomes=[Outcome.rate_limit(retry_after=0), "503", Outcome.rate_limit(), "ok"]
    )
    policy = BackoffPolicy(rate_limit_schedule=(30.0, 60.0))
    state, delays = RetryState(), []
    while True:
        try:
            result = await complete(
                client, make_target(ApiStyle.OPENAI, "m"), CompletionRequest.from_prompt("x")
            )
            break
        except ProviderCallError as error:
            decision = decide(error, state, policy, random.Random(3))
            assert isinstance(decision, Retry)
            delays.append(decision.delay)
            state = decision.state
    assert result.text
    assert delays[0] == 30.0 and delays[2] == 60.0
    assert state == RetryState(rate_limit_retries=2, transient_retries=1)

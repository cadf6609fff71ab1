"""Every classification case: status codes, body wording, Retry-After, transport failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from llm_targets import TargetFactory

from modeldesk.enums import ApiStyle
from modeldesk.errors import ErrorCode
from modeldesk.llm import (
    CompletionRequest,
    ProviderCallError,
    ProviderTarget,
    complete,
    mentions_rate_limit,
    parse_retry_after,
)
from modeldesk.llm.classify import check_response, error_for_status, error_for_transport
from modeldesk.testing import Outcome, Simulator

PROMPT = CompletionRequest.from_prompt("hello")
NO_HEADERS = httpx.Headers()


@pytest.mark.parametrize(
    "text",
    [
        "Rate limit reached for gpt-5-mini",
        "RATE_LIMIT_EXCEEDED",
        '{"type": "rate_limit_error"}',
        "Too Many Requests",
        "too_many_requests",
        "Quota exceeded for quota metric 'Generate Content API requests per minute'",
        "QUOTA-EXCEEDED",
    ],
)
def test_rate_limit_wording_in_any_case(text: str) -> None:
    assert mentions_rate_limit(text)


@pytest.mark.parametrize("text", ["", "invalid api key", "quota", "limit rate", "too many tokens"])
def test_other_wording_is_not_a_rate_limit(text: str) -> None:
    assert not mentions_rate_limit(text)


NOW = datetime(2025, 11, 26, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30.0),
        (" 12 ", 12.0),
        ("1.5", 1.5),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        ("Wed, 26 Nov 2025 12:02:00 GMT", 120.0),
        ("Wed, 26 Nov 2025 11:00:00 GMT", 0.0),  # a date in the past: retry now
        ("-5", None),
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_retry_after_date_without_zone_is_utc() -> None:
    assert parse_retry_after("Wed, 26 Nov 2025 12:00:30 -0000", now=NOW) == 30.0


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (400, ErrorCode.VALIDATION_ERROR, False),
        (401, ErrorCode.AUTH_FAILED, False),
        (402, ErrorCode.PROVIDER_ERROR, False),
        (403, ErrorCode.AUTH_FAILED, False),
        (404, ErrorCode.MODEL_NOT_FOUND, False),
        (408, ErrorCode.TIMEOUT, True),
        (413, ErrorCode.VALIDATION_ERROR, False),
        (422, ErrorCode.VALIDATION_ERROR, False),
        (429, ErrorCode.RATE_LIMITED, True),
        (500, ErrorCode.PROVIDER_ERROR, True),
        (502, ErrorCode.PROVIDER_ERROR, True),
        (503, ErrorCode.PROVIDER_ERROR, True),
        (529, ErrorCode.PROVIDER_ERROR, True),
        (302, ErrorCode.PROVIDER_ERROR, False),
    ],
)
def test_status_codes(status: int, code: ErrorCode, retryable: bool) -> None:
    error = error_for_status(status, NO_HEADERS, b'{"error": {"message": "nope"}}')
    assert (error.code, error.retryable, error.status_code) == (code, retryable, status)
    assert error.is_rate_limit is (code is ErrorCode.RATE_LIMITED)
    assert error.message.endswith(f"HTTP {status}: nope")


@pytest.mark.parametrize("status", [400, 403, 500, 503])
def test_rate_limit_wording_in_an_error_body_wins_over_the_status(status: int) -> None:
    body = b'{"error": {"message": "Quota exceeded for this project"}}'
    error = error_for_status(status, httpx.Headers({"Retry-After": "45"}), body)
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.retryable
    assert error.retry_after == 45.0


def test_error_message_comes_from_the_usual_json_shapes() -> None:
    gemini_list = b'[{"error": {"code": 400, "message": "API key not valid"}}]'
    assert error_for_status(400, NO_HEADERS, gemini_list).message.endswith("API key not valid")
    plain = b"<html>Bad Gateway</html>"
    assert "Bad Gateway" in error_for_status(502, NO_HEADERS, plain).message
    assert error_for_status(500, NO_HEADERS, b"").message.endswith("(empty body)")
    flat = b'{"message": "no such model", "type": "invalid_model"}'
    assert error_for_status(404, NO_HEADERS, flat).message.endswith("no such model")
    long = ("x" * 5000).encode()
    assert len(error_for_status(500, NO_HEADERS, long).message) < 400


def test_success_body_that_mentions_rate_limits_is_returned() -> None:
    body = {"choices": [{"message": {"content": "Rate limit: too many requests"}}]}
    assert check_response(200, NO_HEADERS, json.dumps(body).encode()) == body


@pytest.mark.parametrize(
    ("payload", "code", "retryable"),
    [
        ({"error": {"message": "Rate limit exceeded"}}, ErrorCode.RATE_LIMITED, True),
        ({"error": {"code": 401, "message": "bad key"}}, ErrorCode.AUTH_FAILED, False),
        ({"error": {"code": 503, "message": "busy"}}, ErrorCode.PROVIDER_ERROR, True),
        ({"error": {"code": "weird", "message": "?"}}, ErrorCode.PROVIDER_ERROR, True),
        ({"error": "upstream failed"}, ErrorCode.PROVIDER_ERROR, True),
    ],
)
def test_a_200_carrying_an_error_object_is_an_error(
    payload: dict[str, object], code: ErrorCode, retryable: bool
) -> None:
    with pytest.raises(ProviderCallError) as caught:
        check_response(200, NO_HEADERS, json.dumps(payload).encode())
    assert (caught.value.code, caught.value.retryable) == (code, retryable)


def test_a_null_error_member_is_not_an_error() -> None:
    assert check_response(200, NO_HEADERS, b'{"error": null, "id": 1}') == {"error": None, "id": 1}


@pytest.mark.parametrize("body", [b"not json", b'{"truncated": ', b"[1, 2]", b'"text"'])
def test_malformed_2xx_is_a_retryable_provider_error(body: bytes) -> None:
    with pytest.raises(ProviderCallError) as caught:
        check_response(200, NO_HEADERS, body)
    assert caught.value.code is ErrorCode.PROVIDER_ERROR
    assert caught.value.retryable
    assert "malformed" in caught.value.message


@pytest.mark.parametrize(
    ("exc", "code", "retryable"),
    [
        (httpx.ReadTimeout("read timed out"), ErrorCode.TIMEOUT, True),
        (httpx.ConnectTimeout("connect timed out"), ErrorCode.TIMEOUT, True),
        (httpx.ConnectError("connection refused"), ErrorCode.TIMEOUT, True),
        (httpx.RemoteProtocolError("server disconnected"), ErrorCode.TIMEOUT, True),
        (httpx.UnsupportedProtocol("ftp"), ErrorCode.VALIDATION_ERROR, False),
        (httpx.InvalidURL("bad"), ErrorCode.VALIDATION_ERROR, False),
        (httpx.DecodingError("bad gzip"), ErrorCode.PROVIDER_ERROR, True),
    ],
)
def test_transport_errors(exc: Exception, code: ErrorCode, retryable: bool) -> None:
    error = error_for_transport(exc)
    assert (error.code, error.retryable, error.status_code) == (code, retryable, None)


# Each outcome the simulator can script, as every API style reports it.
CASES = [
    (Outcome.rate_limit(), ErrorCode.RATE_LIMITED, True, None),
    (Outcome.rate_limit(retry_after=7), ErrorCode.RATE_LIMITED, True, 7.0),
    (
        Outcome.rate_limit(retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),
        ErrorCode.RATE_LIMITED,
        True,
        0.0,
    ),
    (Outcome.error(403, "Quota exceeded for quota metric"), ErrorCode.RATE_LIMITED, True, None),
    (Outcome.error(500), ErrorCode.PROVIDER_ERROR, True, None),
    (Outcome.error(503, retry_after="3"), ErrorCode.PROVIDER_ERROR, True, 3.0),
    (Outcome.malformed(), ErrorCode.PROVIDER_ERROR, True, None),
    (Outcome.hang(), ErrorCode.TIMEOUT, True, None),
    (Outcome.error(401), ErrorCode.AUTH_FAILED, False, None),
    (Outcome.error(403), ErrorCode.AUTH_FAILED, False, None),
    (Outcome.error(404), ErrorCode.MODEL_NOT_FOUND, False, None),
    (Outcome.error(400), ErrorCode.VALIDATION_ERROR, False, None),
]


@pytest.mark.parametrize("style", list(ApiStyle))
@pytest.mark.parametrize(("outcome", "code", "retryable", "retry_after"), CASES)
async def test_simulated_outcomes_are_classified(
    sim: Simulator,
    client: httpx.AsyncClient,
    make_target: TargetFactory,
    style: ApiStyle,
    outcome: Outcome,
    code: ErrorCode,
    retryable: bool,
    retry_after: float | None,
) -> None:
    sim.configure("m", outcomes=[outcome])
    with pytest.raises(ProviderCallError) as caught:
        await complete(client, make_target(style, "m", timeout=0.2), PROMPT)
    error = caught.value
    assert (error.code, error.retryable, error.retry_after) == (code, retryable, retry_after)
    # The script is consumed: the next call succeeds.
    assert (await complete(client, make_target(style, "m"), PROMPT)).text


async def test_connection_refused_is_a_retryable_timeout(
    client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    with Simulator() as gone:
        url = gone.url
    with pytest.raises(ProviderCallError) as caught:
        await complete(client, make_target(ApiStyle.OPENAI, "m", base_url=url), PROMPT)
    assert (caught.value.code, caught.value.retryable) == (ErrorCode.TIMEOUT, True)


async def test_unsupported_base_url_is_not_retried(
    client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    target = make_target(ApiStyle.OPENAI, "m", base_url="ftp://example.invalid")
    with pytest.raises(ProviderCallError) as caught:
        await complete(client, target, PROMPT)
    assert (caught.value.code, caught.value.retryable) == (ErrorCode.VALIDATION_ERROR, False)


def _mock_client(body: object, status: int = 200) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("style", "body"),
    [
        (ApiStyle.OPENAI, {"id": "x", "choices": []}),
        (ApiStyle.OPENAI, {"id": "x"}),
        (ApiStyle.ANTHROPIC, {"id": "x", "type": "message"}),
        (ApiStyle.GEMINI, {"candidates": []}),
        (ApiStyle.GEMINI, {"candidates": ["not an object"]}),
    ],
)
async def test_unexpected_2xx_shape_is_malformed(style: ApiStyle, body: object) -> None:
    target = ProviderTarget(style, "http://provider.test", "m", api_key="k" * 20)
    async with _mock_client(body) as client:
        with pytest.raises(ProviderCallError) as caught:
            await complete(client, target, PROMPT)
    assert (caught.value.code, caught.value.retryable) == (ErrorCode.PROVIDER_ERROR, True)
    assert "unexpected response shape" in caught.value.message


async def test_missing_usage_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    body = {"model": "m", "choices": [{"message": {"content": "hi"}, "finish_reason": "length"}]}
    target = ProviderTarget(ApiStyle.OPENAI, "http://provider.test", "m")
    async with _mock_client(body) as client:
        result = await complete(client, target, PROMPT)
    assert result.finish_reason == "length"
    assert result.usage.input_tokens == result.usage.output_tokens == 0
    assert "no token usage" in caplog.text


async def test_inconsistent_usage_is_clamped_not_failed(caplog: pytest.LogCaptureFixture) -> None:
    body = {
        "choices": [{"message": {"content": [{"type": "text", "text": "a"}, {"type": "x"}]}}],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 50},
            "completion_tokens_details": {"reasoning_tokens": 9},
        },
    }
    target = ProviderTarget(ApiStyle.OPENAI, "http://provider.test", "m")
    async with _mock_client(body) as client:
        result = await complete(client, target, PROMPT)
    assert result.text == "a"
    assert (result.usage.cached_input_tokens, result.usage.reasoning_tokens) == (10, 5)
    assert result.finish_reason == "other"
    assert "clamped" in caplog.text


async def test_deepseek_cache_hits_count_as_cached_input() -> None:
    body = {
        "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 5, "prompt_cache_hit_tokens": 64},
    }
    target = ProviderTarget(ApiStyle.OPENAI, "http://provider.test", "deepseek-chat")
    async with _mock_client(body) as client:
        result = await complete(client, target, PROMPT)
    assert result.usage.cached_input_tokens == 64


async def test_openai_refusal_is_the_answer_text() -> None:
    body = {
        "choices": [{"message": {"content": None, "refusal": "I can't."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
    target = ProviderTarget(ApiStyle.OPENAI, "http://provider.test", "m")
    async with _mock_client(body) as client:
        assert (await complete(client, target, PROMPT)).text == "I can't."

"""API keys never reach URLs, logs, error messages, reprs or the simulator's records."""

from __future__ import annotations

import contextlib
import json
import logging

import httpx
import pytest
from llm_targets import TargetFactory

from modeldesk.enums import ApiStyle
from modeldesk.errors import ErrorCode, UnsupportedProviderError
from modeldesk.llm import (
    DEFAULT_BASE_URLS,
    CompletionRequest,
    ProviderCallError,
    ProviderTarget,
    complete,
    make_target,
    redact,
)
from modeldesk.llm.redact import REDACTED, excerpt
from modeldesk.testing import Simulator

PROMPT = CompletionRequest.from_prompt("hello")
# A key with no recognisable shape (like Mistral's), so only exact matching can hide it.
PLAIN_KEY = "Zq8wP3xL0vN7mK2rT5yB9cH4jD6fG1sA"


def test_redact_exact_secrets_and_known_key_shapes() -> None:
    text = (
        f"key {PLAIN_KEY} and sk-proj-abcdefghijklmnopqrstuv and AIza{'x' * 35} and xai-{'q' * 20}"
    )
    cleaned = redact(text, [PLAIN_KEY, None, ""])
    assert cleaned.count(REDACTED) == 4
    assert PLAIN_KEY not in cleaned and "sk-proj" not in cleaned and "AIza" not in cleaned


def test_short_secrets_do_not_redact_ordinary_words() -> None:
    assert redact("the cat sat", ["cat"]) == "the cat sat"


def test_excerpt_redacts_before_truncating() -> None:
    text = "x" * 290 + PLAIN_KEY
    cut = excerpt(text, [PLAIN_KEY], limit=300)
    assert PLAIN_KEY[:8] not in cut
    assert len(cut) <= 300


def test_target_repr_hides_the_key() -> None:
    target = ProviderTarget(ApiStyle.OPENAI, "http://x", "m", api_key=PLAIN_KEY)
    assert PLAIN_KEY not in repr(target)
    assert PLAIN_KEY not in str(target)


def _echoing_client(status: int, raw: bool = False) -> httpx.AsyncClient:
    """A hostile server that echoes the key it received back in its body."""

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        if raw:
            return httpx.Response(status, content=f"oops {key}".encode())
        body = {"error": {"message": f"Incorrect API key provided: {key}. Rate limit."}}
        return httpx.Response(status, content=json.dumps(body).encode())

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(("status", "raw"), [(401, False), (429, False), (500, True), (200, True)])
@pytest.mark.parametrize("style", [ApiStyle.OPENAI, ApiStyle.ANTHROPIC])
async def test_a_key_echoed_by_the_server_is_redacted_everywhere(
    caplog: pytest.LogCaptureFixture, status: int, raw: bool, style: ApiStyle
) -> None:
    target = ProviderTarget(style, "http://provider.test", "m", api_key=PLAIN_KEY)
    with caplog.at_level(logging.DEBUG):
        async with _echoing_client(status, raw) as client:
            with pytest.raises(ProviderCallError) as caught:
                await complete(client, target, PROMPT)
    error = caught.value
    for rendered in (error.message, str(error), repr(error), caplog.text):
        assert PLAIN_KEY not in rendered
    # A chained httpx exception would carry the request, key header included.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


async def test_transport_error_text_is_redacted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"proxy refused {PLAIN_KEY}", request=request)

    target = ProviderTarget(ApiStyle.GEMINI, "http://provider.test", "m", api_key=PLAIN_KEY)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ProviderCallError) as caught:
            await complete(client, target, PROMPT)
    assert caught.value.code is ErrorCode.TIMEOUT
    assert PLAIN_KEY not in repr(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("style", list(ApiStyle))
@pytest.mark.parametrize("outcome", ["ok", "429", "401", "malformed"])
async def test_key_is_absent_from_urls_logs_and_simulator_records(
    sim: Simulator,
    client: httpx.AsyncClient,
    make_target: TargetFactory,
    caplog: pytest.LogCaptureFixture,
    style: ApiStyle,
    outcome: str,
) -> None:
    sim.configure("m", outcomes=[outcome])
    with caplog.at_level(logging.DEBUG), contextlib.suppress(ProviderCallError):
        await complete(client, make_target(style, "m", api_key=PLAIN_KEY), PROMPT)
    assert PLAIN_KEY not in caplog.text
    assert "HTTP Request" in caplog.text  # httpx did log the call, URL included
    [seen] = sim.requests("m")
    assert PLAIN_KEY not in seen.query and PLAIN_KEY not in seen.path
    assert PLAIN_KEY not in json.dumps(seen.to_json())
    for path in ("/_sim/requests", "/_sim/stats"):
        assert PLAIN_KEY not in (await client.get(f"{sim.url}{path}")).text


def test_make_target_reads_the_named_env_var() -> None:
    target = make_target(
        provider_name="openai",
        api_style="OPENAI",
        model_id="gpt-5-mini",
        api_key_env="OPENAI_API_KEY",
        environ={"OPENAI_API_KEY": PLAIN_KEY},
    )
    assert target.api_key == PLAIN_KEY
    assert target.base_url == DEFAULT_BASE_URLS["openai"] == "https://api.openai.com"
    assert target.api_style is ApiStyle.OPENAI


def test_make_target_without_the_key_fails_before_any_call() -> None:
    with pytest.raises(ProviderCallError) as caught:
        make_target(
            provider_name="xai",
            api_style=ApiStyle.OPENAI,
            model_id="grok",
            api_key_env="XAI_API_KEY",
            environ={},
        )
    assert (caught.value.code, caught.value.retryable) == (ErrorCode.AUTH_FAILED, False)
    assert "XAI_API_KEY" in caught.value.message


def test_make_target_for_a_local_server_needs_no_key() -> None:
    target = make_target(
        provider_name="local", api_style="OPENAI", model_id="llama", base_url="http://127.0.0.1:1"
    )
    assert target.api_key is None and target.base_url == "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("name", "style", "base_url"), [("custom", "OPENAI", None), ("openai", "SOAP", None)]
)
def test_make_target_refuses_what_it_cannot_call(
    name: str, style: str, base_url: str | None
) -> None:
    with pytest.raises(UnsupportedProviderError):
        make_target(provider_name=name, api_style=style, model_id="m", base_url=base_url)

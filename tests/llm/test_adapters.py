"""Each adapter against the simulator: what goes on the wire, and what comes back."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from llm_targets import TargetFactory

from modeldesk.enums import ApiStyle
from modeldesk.errors import ErrorCode
from modeldesk.llm import (
    CompletionRequest,
    Message,
    ProviderCallError,
    Usage,
    complete,
)
from modeldesk.testing import Simulator, fingerprint

REQUEST = CompletionRequest(
    messages=(
        Message("system", "You are terse."),
        Message("system", "Answer in English."),
        Message("user", "What is 2+2?"),
        Message("assistant", "4."),
        Message("user", "And 3+3?"),
    ),
    max_output_tokens=256,
    temperature=0.2,
    top_p=0.9,
    stop=("END",),
    extra={"seed": 7},
)


async def test_openai_request_shape(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory, api_key: str
) -> None:
    await complete(client, make_target(ApiStyle.OPENAI, "gpt-5-mini"), REQUEST)
    [seen] = sim.requests("gpt-5-mini")
    assert seen.path == "/v1/chat/completions"
    assert seen.query == ""
    assert seen.headers["authorization"] == f"Bearer {fingerprint(api_key)}"
    assert seen.headers["content-type"] == "application/json"
    assert seen.body == {
        "model": "gpt-5-mini",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "system", "content": "Answer in English."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4."},
            {"role": "user", "content": "And 3+3?"},
        ],
        "max_completion_tokens": 256,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END"],
        "seed": 7,
    }


@pytest.mark.parametrize("provider", ["deepseek", "mistral"])
async def test_openai_compatible_providers_that_only_know_max_tokens(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory, provider: str
) -> None:
    target = make_target(ApiStyle.OPENAI, "chat-model", provider_name=provider)
    await complete(client, target, CompletionRequest.from_prompt("hi", max_output_tokens=64))
    [seen] = sim.requests("chat-model")
    assert seen.body["max_tokens"] == 64
    assert "max_completion_tokens" not in seen.body


async def test_openai_usage_with_cached_and_reasoning_tokens(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    sim.configure(
        "gpt-5.1",
        text="Six.",
        input_tokens=1000,
        cached_tokens=600,
        output_tokens=300,
        reasoning_tokens=200,
        model_version="gpt-5.1-2025-11-13",
    )
    result = await complete(client, make_target(ApiStyle.OPENAI, "gpt-5.1"), REQUEST)
    assert result.text == "Six."
    assert result.usage == Usage(
        input_tokens=1000, output_tokens=300, cached_input_tokens=600, reasoning_tokens=200
    )
    assert result.finish_reason == "stop"
    assert result.model_version == "gpt-5.1-2025-11-13"
    assert result.raw["usage"]["prompt_tokens_details"]["cached_tokens"] == 600
    assert result.duration_ms > 0


async def test_base_url_that_already_ends_in_v1(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    target = make_target(ApiStyle.OPENAI, "local-llama", base_url=f"{sim.url}/v1/", api_key=None)
    result = await complete(client, target, CompletionRequest.from_prompt("hi"))
    assert result.text
    [seen] = sim.requests("local-llama")
    assert seen.path == "/v1/chat/completions"
    assert "authorization" not in seen.headers


async def test_anthropic_request_shape(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory, api_key: str
) -> None:
    await complete(client, make_target(ApiStyle.ANTHROPIC, "claude-haiku-4-5"), REQUEST)
    [seen] = sim.requests("claude-haiku-4-5")
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == fingerprint(api_key)
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in seen.headers
    assert seen.body == {
        "model": "claude-haiku-4-5",
        "max_tokens": 256,
        "system": "You are terse.\n\nAnswer in English.",
        "messages": [
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4."},
            {"role": "user", "content": "And 3+3?"},
        ],
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "seed": 7,
    }


async def test_anthropic_input_tokens_include_both_cache_figures(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    sim.configure(
        "claude-sonnet-4-5",
        input_tokens=1000,
        cached_tokens=600,
        cache_creation_tokens=100,
        output_tokens=300,
        reasoning_tokens=50,
    )
    result = await complete(client, make_target(ApiStyle.ANTHROPIC, "claude-sonnet-4-5"), REQUEST)
    # On the wire input_tokens is only the uncached remainder.
    assert result.raw["usage"]["input_tokens"] == 300
    assert result.usage == Usage(
        input_tokens=1000,
        output_tokens=300,
        cached_input_tokens=600,
        cache_creation_input_tokens=100,
        # Anthropic does not split thinking out of output_tokens.
        reasoning_tokens=0,
    )
    assert result.finish_reason == "stop"
    assert result.text.startswith("Simulated answer")  # the thinking block is not the answer


async def test_gemini_request_shape_keeps_the_key_out_of_the_url(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory, api_key: str
) -> None:
    await complete(client, make_target(ApiStyle.GEMINI, "models/gemini-2.5-pro"), REQUEST)
    [seen] = sim.requests("gemini-2.5-pro")
    assert seen.path == "/v1beta/models/gemini-2.5-pro:generateContent"
    assert seen.query == ""
    assert seen.headers["x-goog-api-key"] == fingerprint(api_key)
    assert seen.body == {
        "contents": [
            {"role": "user", "parts": [{"text": "What is 2+2?"}]},
            {"role": "model", "parts": [{"text": "4."}]},
            {"role": "user", "parts": [{"text": "And 3+3?"}]},
        ],
        "systemInstruction": {"parts": [{"text": "You are terse.\n\nAnswer in English."}]},
        "generationConfig": {
            "maxOutputTokens": 256,
            "temperature": 0.2,
            "topP": 0.9,
            "stopSequences": ["END"],
        },
        "seed": 7,
    }


async def test_gemini_output_includes_thoughts(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    sim.configure(
        "gemini-2.5-pro",
        input_tokens=1000,
        cached_tokens=600,
        output_tokens=300,
        reasoning_tokens=200,
        model_version="gemini-2.5-pro-001",
    )
    result = await complete(client, make_target(ApiStyle.GEMINI, "gemini-2.5-pro"), REQUEST)
    assert result.raw["usageMetadata"]["candidatesTokenCount"] == 100
    assert result.usage == Usage(
        input_tokens=1000, output_tokens=300, cached_input_tokens=600, reasoning_tokens=200
    )
    assert result.model_version == "gemini-2.5-pro-001"
    assert result.finish_reason == "stop"


async def test_gemini_blocked_prompt_is_a_clear_non_retryable_error(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    sim.configure("gemini-2.5-pro", outcomes=["blocked"])
    with pytest.raises(ProviderCallError) as caught:
        await complete(client, make_target(ApiStyle.GEMINI, "gemini-2.5-pro"), REQUEST)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert not caught.value.retryable
    assert "blocked" in caught.value.message
    assert "SAFETY" in caught.value.message


@pytest.mark.parametrize("style", [ApiStyle.OPENAI, ApiStyle.ANTHROPIC])
async def test_blocked_answer_is_a_content_filter_completion(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory, style: ApiStyle
) -> None:
    sim.configure("m", outcomes=["blocked"])
    result = await complete(client, make_target(style, "m"), REQUEST)
    assert result.finish_reason == "content_filter"
    assert result.text == ""


@pytest.mark.parametrize("style", list(ApiStyle))
async def test_an_answer_that_talks_about_rate_limits_is_a_success(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory, style: ApiStyle
) -> None:
    answer = "Too many requests? You hit a Rate Limit: quota exceeded."
    sim.configure("m", text=answer)
    result = await complete(client, make_target(style, "m"), REQUEST)
    assert result.text == answer


async def test_concurrent_calls_are_counted_per_model_and_provider(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    for model in ("a", "b"):
        sim.configure(model, latency=0.2, provider="acme")
    calls = [complete(client, make_target(ApiStyle.OPENAI, model), REQUEST) for model in "aabbb"]
    await asyncio.gather(*calls)
    stats = sim.stats()
    assert stats["providers"]["acme"]["max_concurrent"] == 5
    assert stats["providers"]["acme"]["current"] == 0
    assert stats["models"]["b"]["max_concurrent"] == 3
    assert stats["models"]["a"]["requests"] == 2
    assert len(stats["providers"]["acme"]["starts"]) == 5


async def test_request_without_a_user_message_is_refused_locally(
    sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
) -> None:
    request = CompletionRequest(messages=(Message("system", "only a preamble"),))
    with pytest.raises(ProviderCallError) as caught:
        await complete(client, make_target(ApiStyle.OPENAI, "m"), request)
    assert caught.value.code is ErrorCode.VALIDATION_ERROR
    assert sim.requests() == []

"""Usage as each API reports it, normalised the way genai-prices' extractors read it.

Each test also runs genai-prices' own extractor over the same response body and
checks that both read the same token counts, so "the same usage" that the cost
oracle relies on is the usage the provider reported.
"""

from __future__ import annotations

import httpx
import pytest
from genai_prices import extract_usage
from llm_targets import TargetFactory

from modeldesk.enums import ApiStyle
from modeldesk.llm import (
    Completion,
    CompletionRequest,
    Usage,
    complete,
    gemini,
)
from modeldesk.testing import ModelConfig, Simulator

REQUEST = CompletionRequest.from_prompt("Count to three.")


def _reference_counts(body: object, provider_id: str, flavor: str) -> tuple[object, ...]:
    usage = extract_usage(body, provider_id=provider_id, api_flavor=flavor).usage
    return (
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
    )


def _ours(usage: Usage) -> tuple[int, ...]:
    return (
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.cache_creation_input_tokens,
        usage.output_tokens,
    )


class Caller:
    """Configures a model's usage in the simulator, then calls it through its adapter."""

    def __init__(
        self, sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory
    ) -> None:
        self.sim, self.client, self.make_target = sim, client, make_target

    async def __call__(
        self, style: ApiStyle, model: str, provider: str = "", **usage: int
    ) -> Completion:
        # The real model name in the response, as genai-prices' extractor looks it up.
        fields = {"model_version": model, "provider": provider or None, **usage}
        self.sim.configure(model, ModelConfig.from_json(fields))
        target = self.make_target(style, model, provider_name=provider)
        return await complete(self.client, target, REQUEST)


@pytest.fixture
def call(sim: Simulator, client: httpx.AsyncClient, make_target: TargetFactory) -> Caller:
    return Caller(sim, client, make_target)


async def test_xai_reasoning_tokens_are_output_on_top_of_completion_tokens(call: Caller) -> None:
    result = await call(
        ApiStyle.OPENAI,
        "grok-4-0709",
        "xai",
        input_tokens=900,
        cached_tokens=300,
        output_tokens=700,
        reasoning_tokens=500,
    )
    assert result.raw["usage"]["completion_tokens"] == 200  # xAI leaves reasoning out
    assert result.usage == Usage(900, 700, cached_input_tokens=300, reasoning_tokens=500)
    assert _ours(result.usage) == _reference_counts(result.raw, "x-ai", "chat")


async def test_openai_cached_tokens_are_inside_prompt_tokens_and_writes_are_read(
    call: Caller,
) -> None:
    result = await call(
        ApiStyle.OPENAI,
        "gpt-5.1",
        input_tokens=5000,
        cached_tokens=3000,
        cache_creation_tokens=1000,
        output_tokens=800,
        reasoning_tokens=300,
    )
    assert result.usage == Usage(
        5000, 800, cached_input_tokens=3000, reasoning_tokens=300, cache_creation_input_tokens=1000
    )
    assert _ours(result.usage) == _reference_counts(result.raw, "openai", "chat")


async def test_anthropic_counts_match_the_reference_extractor(call: Caller) -> None:
    result = await call(
        ApiStyle.ANTHROPIC,
        "claude-sonnet-4-5",
        input_tokens=250_000,
        cached_tokens=100_000,
        cache_creation_tokens=40_000,
        output_tokens=900,
    )
    assert _ours(result.usage) == (250_000, 100_000, 40_000, 900)
    assert _ours(result.usage) == _reference_counts(result.raw, "anthropic", "default")


async def test_gemini_thoughts_are_output_and_tool_use_prompts_are_input(
    call: Caller, make_target: TargetFactory
) -> None:
    result = await call(
        ApiStyle.GEMINI,
        "gemini-2.5-pro",
        input_tokens=4000,
        cached_tokens=1500,
        output_tokens=600,
        reasoning_tokens=400,
    )
    assert result.usage == Usage(4000, 600, cached_input_tokens=1500, reasoning_tokens=400)
    assert _ours(result.usage) == _reference_counts(result.raw, "google", "default")

    # A prompt with tool use reports those tokens apart from promptTokenCount.
    body = dict(result.raw)
    body["usageMetadata"] = {**body["usageMetadata"], "toolUsePromptTokenCount": 250}
    parsed = gemini.parse(body, make_target(ApiStyle.GEMINI, "gemini-2.5-pro"), "test")
    assert parsed.usage.input_tokens == 4250
    assert _ours(parsed.usage) == _reference_counts(body, "google", "default")

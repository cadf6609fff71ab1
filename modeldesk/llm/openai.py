"""OpenAI Chat Completions, also spoken by xAI, DeepSeek, Mistral and local servers."""

from __future__ import annotations

from typing import Any

from modeldesk.llm import wire
from modeldesk.llm.types import Completion, CompletionRequest, ProviderTarget

# OpenAI's newer models refuse `max_tokens`; these providers only know it.
_LEGACY_MAX_TOKENS = frozenset({"deepseek", "mistral"})
# xAI's `completion_tokens` leaves out the reasoning tokens it also bills as
# output (genai-prices' x-ai extractor adds them), unlike OpenAI's, which holds them.
_REASONING_OUTSIDE_COMPLETION = frozenset({"xai"})

_FINISH = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


def build(target: ProviderTarget, request: CompletionRequest) -> wire.PreparedCall:
    body: dict[str, Any] = {
        "model": target.model_id,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
    }
    max_field = (
        "max_tokens" if target.provider_name in _LEGACY_MAX_TOKENS else "max_completion_tokens"
    )
    body[max_field] = request.max_output_tokens
    body.update(
        wire.sampling_options(request, temperature="temperature", top_p="top_p", stop="stop")
    )
    body.update(request.extra)
    auth = {"authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    return wire.PreparedCall(
        url=wire.endpoint(target.base_url, "v1", "chat/completions"),
        headers=wire.json_headers(auth),
        body=body,
    )


def _text(content: Any) -> str:
    """Content is a string, or a list of parts on some compatible servers."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def parse(data: dict[str, Any], target: ProviderTarget, context: str) -> Completion:
    choice = data["choices"][0]
    message = choice.get("message") or {}
    text = _text(message.get("content")) or _text(message.get("refusal"))
    raw_usage = data.get("usage") or {}
    prompt_details = raw_usage.get("prompt_tokens_details")
    # DeepSeek reports cache hits in its own field instead of the details object.
    cached = wire.count(prompt_details, "cached_tokens") or wire.count(
        raw_usage, "prompt_cache_hit_tokens"
    )
    reasoning = wire.count(raw_usage.get("completion_tokens_details"), "reasoning_tokens")
    output = wire.count(raw_usage, "completion_tokens")
    if target.provider_name in _REASONING_OUTSIDE_COMPLETION:
        output += reasoning
    return Completion(
        text=text,
        usage=wire.usage(
            input_tokens=wire.count(raw_usage, "prompt_tokens"),
            output_tokens=output,
            cached_input_tokens=cached,
            reasoning_tokens=reasoning,
            # Cache writes, where a compatible server reports them, are billed apart too.
            cache_creation_input_tokens=wire.count(prompt_details, "cache_write_tokens"),
            context=context,
        ),
        finish_reason=_FINISH.get(str(choice.get("finish_reason")), "other"),
        model_version=data.get("model") or target.model_id,
        raw=data,
    )

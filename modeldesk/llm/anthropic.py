"""Anthropic Messages API."""

from __future__ import annotations

from typing import Any

from modeldesk.llm import wire
from modeldesk.llm.types import Completion, CompletionRequest, ProviderTarget

ANTHROPIC_VERSION = "2023-06-01"

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def build(target: ProviderTarget, request: CompletionRequest) -> wire.PreparedCall:
    # The API has no system role in `messages`; every system message is lifted
    # into the top-level `system` field, in order.
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    body: dict[str, Any] = {
        "model": target.model_id,
        "max_tokens": request.max_output_tokens,
        "messages": [
            {"role": m.role, "content": m.content} for m in request.messages if m.role != "system"
        ],
    }
    if system:
        body["system"] = system
    body.update(
        wire.sampling_options(
            request, temperature="temperature", top_p="top_p", stop="stop_sequences"
        )
    )
    body.update(request.extra)
    auth = {"x-api-key": target.api_key} if target.api_key else {}
    return wire.PreparedCall(
        url=wire.endpoint(target.base_url, "v1", "messages"),
        headers=wire.json_headers({**auth, "anthropic-version": ANTHROPIC_VERSION}),
        body=body,
    )


def parse(data: dict[str, Any], target: ProviderTarget, context: str) -> Completion:
    blocks = data["content"]
    # Thinking blocks are not part of the answer; their tokens are already
    # inside output_tokens, which Anthropic does not split further.
    text = "".join(
        str(block.get("text", ""))
        for block in blocks
        if isinstance(block, dict) and block.get("type") == "text"
    )
    raw_usage = data.get("usage") or {}
    cache_read = wire.count(raw_usage, "cache_read_input_tokens")
    cache_creation = wire.count(raw_usage, "cache_creation_input_tokens")
    # Anthropic's input_tokens excludes both cache figures; ours is the whole prompt.
    total_input = wire.count(raw_usage, "input_tokens") + cache_read + cache_creation
    return Completion(
        text=text,
        usage=wire.usage(
            input_tokens=total_input,
            output_tokens=wire.count(raw_usage, "output_tokens"),
            cached_input_tokens=cache_read,
            cache_creation_input_tokens=cache_creation,
            context=context,
        ),
        finish_reason=_FINISH.get(str(data.get("stop_reason")), "other"),
        model_version=data.get("model") or target.model_id,
        raw=data,
    )

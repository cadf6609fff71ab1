"""Response bodies shaped like each real API, so adapters meet what production sends.

Shapes follow the providers' documented responses (OpenAI Chat Completions,
Anthropic Messages, Gemini generateContent), usage blocks included.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from modeldesk.enums import ApiStyle
from modeldesk.testing.simulator_state import ModelConfig

_ids = itertools.count(1)

MALFORMED_BODY = b'{"id": "sim-truncated", "choices": [{"index": 0, "message": {"role": "assist'


@dataclass(frozen=True)
class SimUsage:
    """Normalised totals: input includes cached, output includes reasoning."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int
    reasoning_tokens: int
    cache_creation_tokens: int


def _estimate_tokens(text: str) -> int:
    # About four characters a token for English text: realistic enough for costs.
    return max(1, len(text) // 4)


def usage_for(config: ModelConfig, prompt: str, answer: str) -> SimUsage:
    cached_part = config.cached_tokens + config.cache_creation_tokens
    input_tokens = config.input_tokens
    if input_tokens is None:
        input_tokens = max(_estimate_tokens(prompt), cached_part)
    output_tokens = config.output_tokens
    if output_tokens is None:
        output_tokens = _estimate_tokens(answer) + config.reasoning_tokens
    return SimUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_tokens=config.cached_tokens,
        reasoning_tokens=config.reasoning_tokens,
        cache_creation_tokens=config.cache_creation_tokens,
    )


def prompt_text(style: ApiStyle, body: dict[str, Any]) -> str:
    """All prompt text of a request, for token estimates and the default answer."""
    if style is ApiStyle.GEMINI:
        turns = [*body.get("contents", []), body.get("systemInstruction") or {}]
        return " ".join(str(p.get("text", "")) for t in turns for p in t.get("parts", []))
    texts = [str(m.get("content", "")) for m in body.get("messages", [])]
    return " ".join([str(body.get("system", "")), *texts]).strip()


def default_answer(model: str, prompt: str) -> str:
    return f"Simulated answer from {model} to: {prompt[-80:]}"


# Providers whose OpenAI-compatible usage leaves reasoning out of completion_tokens.
_REASONING_OUTSIDE_COMPLETION = frozenset({"xai"})


def success(
    style: ApiStyle,
    version: str,
    text: str,
    usage: SimUsage,
    *,
    blocked: bool = False,
    provider: str | None = None,
) -> dict[str, Any]:
    if style is ApiStyle.OPENAI:
        return _openai_success(
            version, text, usage, blocked, provider in _REASONING_OUTSIDE_COMPLETION
        )
    if style is ApiStyle.ANTHROPIC:
        return _anthropic_success(version, text, usage, blocked)
    return _gemini_success(version, text, usage, blocked)


def _openai_success(
    version: str, text: str, u: SimUsage, blocked: bool, reasoning_apart: bool
) -> dict[str, Any]:
    completion = u.output_tokens - u.reasoning_tokens if reasoning_apart else u.output_tokens
    prompt_details = {"cached_tokens": u.cached_tokens, "audio_tokens": 0}
    if u.cache_creation_tokens:
        prompt_details["cache_write_tokens"] = u.cache_creation_tokens
    return {
        "id": f"chatcmpl-sim{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": version,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if blocked else text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "content_filter" if blocked else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": u.input_tokens,
            "completion_tokens": completion,
            "total_tokens": u.input_tokens + u.output_tokens,
            "prompt_tokens_details": prompt_details,
            "completion_tokens_details": {
                "reasoning_tokens": u.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_sim",
    }


def _anthropic_success(version: str, text: str, u: SimUsage, blocked: bool) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if u.reasoning_tokens:
        content.append({"type": "thinking", "thinking": "Simulated reasoning.", "signature": "sim"})
    if not blocked:
        content.append({"type": "text", "text": text})
    return {
        "id": f"msg_sim{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": version,
        "content": content,
        "stop_reason": "refusal" if blocked else "end_turn",
        "stop_sequence": None,
        "usage": {
            # Anthropic's input_tokens counts only the uncached part of the prompt.
            "input_tokens": u.input_tokens - u.cached_tokens - u.cache_creation_tokens,
            "cache_creation_input_tokens": u.cache_creation_tokens,
            "cache_read_input_tokens": u.cached_tokens,
            "output_tokens": u.output_tokens,
            "service_tier": "standard",
        },
    }


def _gemini_success(version: str, text: str, u: SimUsage, blocked: bool) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "promptTokenCount": u.input_tokens,
        "totalTokenCount": u.input_tokens + (0 if blocked else u.output_tokens),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": u.input_tokens}],
    }
    if u.cached_tokens:
        metadata["cachedContentTokenCount"] = u.cached_tokens
    body: dict[str, Any] = {"modelVersion": version, "responseId": f"sim{next(_ids)}"}
    if blocked:
        body["promptFeedback"] = {
            "blockReason": "SAFETY",
            "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}
            ],
        }
        return {**body, "usageMetadata": metadata}
    # Gemini reports thinking apart from the answer's own tokens.
    metadata["candidatesTokenCount"] = u.output_tokens - u.reasoning_tokens
    if u.reasoning_tokens:
        metadata["thoughtsTokenCount"] = u.reasoning_tokens
    candidate = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "finishReason": "STOP",
        "index": 0,
    }
    return {**body, "candidates": [candidate], "usageMetadata": metadata}


_MESSAGES = {
    400: "Invalid request: the request body is not valid for this endpoint.",
    401: "Invalid authentication: the API key is not valid.",
    403: "Permission denied for this resource.",
    404: "The model `{model}` does not exist or you do not have access to it.",
}
_RATE_LIMIT_MESSAGES = {
    ApiStyle.OPENAI: "Rate limit reached for {model} on requests per min (RPM): "
    "Limit 3, Used 3, Requested 1. Please try again in 20s.",
    ApiStyle.ANTHROPIC: "This request would exceed the rate limit for your organization "
    "of 50 requests per minute.",
    ApiStyle.GEMINI: "Resource has been exhausted (e.g. check quota).",
}
_SERVER_MESSAGE = "The server had an error while processing your request."

_OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "requests"}
_OPENAI_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_GEMINI_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}


def error(style: ApiStyle, status: int, model: str, message: str | None) -> dict[str, Any]:
    if message is None:
        template = (
            _RATE_LIMIT_MESSAGES[style] if status == 429 else _MESSAGES.get(status, _SERVER_MESSAGE)
        )
        message = template.format(model=model)
    if style is ApiStyle.ANTHROPIC:
        kind = _ANTHROPIC_TYPES.get(status, "api_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": f"req_sim{next(_ids)}",
        }
    if style is ApiStyle.GEMINI:
        state = _GEMINI_STATUSES.get(status, "INTERNAL")
        return {"error": {"code": status, "message": message, "status": state}}
    return {
        "error": {
            "message": message,
            "type": _OPENAI_TYPES.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            ),
            "param": None,
            "code": _OPENAI_CODES.get(status),
        }
    }

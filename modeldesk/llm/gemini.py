"""Google Gemini generateContent."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from modeldesk.errors import ErrorCode
from modeldesk.llm import wire
from modeldesk.llm.errors import ProviderCallError
from modeldesk.llm.types import Completion, CompletionRequest, ProviderTarget

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "tool_calls",
}


def build(target: ProviderTarget, request: CompletionRequest) -> wire.PreparedCall:
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    body: dict[str, Any] = {
        "contents": [
            {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
            for m in request.messages
            if m.role != "system"
        ],
    }
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    body["generationConfig"] = {
        "maxOutputTokens": request.max_output_tokens,
        **wire.sampling_options(
            request, temperature="temperature", top_p="topP", stop="stopSequences"
        ),
    }
    body.update(request.extra)
    # Catalogue ids may carry the API's own "models/" prefix; the path adds it once.
    model = quote(target.model_id.removeprefix("models/"), safe="-._~")
    # The key travels in a header: a `?key=` query string ends up in access logs.
    auth = {"x-goog-api-key": target.api_key} if target.api_key else {}
    return wire.PreparedCall(
        url=wire.endpoint(target.base_url, "v1beta", f"models/{model}:generateContent"),
        headers=wire.json_headers(auth),
        body=body,
    )


def _blocked(data: dict[str, Any], context: str) -> ProviderCallError:
    feedback = data.get("promptFeedback") or {}
    reason = feedback.get("blockReason", "unknown reason")
    detail = feedback.get("blockReasonMessage")
    suffix = f" ({detail})" if detail else ""
    return ProviderCallError(
        f"{context}: prompt blocked by Gemini: {reason}{suffix}",
        code=ErrorCode.VALIDATION_ERROR,
        retryable=False,
        details={"block_reason": reason},
    )


def parse(data: dict[str, Any], target: ProviderTarget, context: str) -> Completion:
    candidates = data.get("candidates")
    if not candidates:
        if (data.get("promptFeedback") or {}).get("blockReason"):
            raise _blocked(data, context)
        raise KeyError("candidates")
    candidate = candidates[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    # Thought summaries are flagged parts; they are not the answer.
    text = "".join(
        str(part.get("text", ""))
        for part in parts
        if isinstance(part, dict) and not part.get("thought")
    )
    meta = data.get("usageMetadata") or {}
    thoughts = wire.count(meta, "thoughtsTokenCount")
    # The prompt count includes cached content; tool-use prompt tokens come on top.
    prompt = wire.count(meta, "promptTokenCount") + wire.count(meta, "toolUsePromptTokenCount")
    return Completion(
        text=text,
        usage=wire.usage(
            input_tokens=prompt,
            # candidatesTokenCount excludes thinking; our output includes it.
            output_tokens=wire.count(meta, "candidatesTokenCount") + thoughts,
            cached_input_tokens=wire.count(meta, "cachedContentTokenCount"),
            reasoning_tokens=thoughts,
            context=context,
        ),
        finish_reason=_FINISH.get(str(candidate.get("finishReason")), "other"),
        model_version=data.get("modelVersion") or target.model_id,
        raw=data,
    )

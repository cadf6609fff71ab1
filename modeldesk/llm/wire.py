"""What every wire format needs: the prepared call, URL joining, sampling options, token counts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modeldesk.llm.types import CompletionRequest, Usage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedCall:
    """An HTTP request ready to send; the headers hold the key, so never log them."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]


def endpoint(base_url: str, version: str, path: str) -> str:
    """Join a base URL and an API path without doubling the version segment.

    Operators often paste an OpenAI-compatible base URL that already ends in
    `/v1` (local servers document it that way); both forms must work.
    """
    base = base_url.rstrip("/")
    if base.endswith("/" + version):
        return f"{base}/{path}"
    return f"{base}/{version}/{path}"


def sampling_options(
    request: CompletionRequest, *, temperature: str, top_p: str, stop: str
) -> dict[str, Any]:
    """The sampling settings the request sets, under the API's own field names.

    One left unset is left out, so the provider applies its own default.
    """
    options = {
        temperature: request.temperature,
        top_p: request.top_p,
        stop: list(request.stop) if request.stop else None,
    }
    return {name: value for name, value in options.items() if value is not None}


def count(container: Any, key: str) -> int:
    """A token count from a usage object, 0 when absent, null or nonsensical."""
    if not isinstance(container, Mapping):
        return 0
    value = container.get(key)
    return value if isinstance(value, int) and value > 0 else 0


def usage(
    *,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    reasoning_tokens: int = 0,
    cache_creation_input_tokens: int = 0,
    context: str,
) -> Usage:
    """A `Usage` whose parts fit inside their totals.

    A provider reporting more cached than input tokens is wrong, but the call
    still succeeded: clamp and warn rather than fail and retry it.
    """
    cached = min(cached_input_tokens, input_tokens)
    creation = min(cache_creation_input_tokens, input_tokens - cached)
    reasoning = min(reasoning_tokens, output_tokens)
    if (cached, creation, reasoning) != (
        cached_input_tokens,
        cache_creation_input_tokens,
        reasoning_tokens,
    ):
        logger.warning("%s: inconsistent token usage reported; parts clamped to totals", context)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
        cache_creation_input_tokens=creation,
    )


def json_headers(extra: Mapping[str, str]) -> dict[str, str]:
    return {"content-type": "application/json", "accept": "application/json", **extra}

"""The values an adapter takes and returns, shared by every API style.

They are plain frozen dataclasses so that a call can be described, logged and
replayed without any HTTP or database object in sight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from modeldesk.enums import ApiStyle

Role = Literal["system", "user", "assistant"]

# Base URLs of the providers the seed catalogue knows; any other provider must
# name its own (a local OpenAI-compatible server, for instance).
DEFAULT_BASE_URLS: Mapping[str, str] = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "google": "https://generativelanguage.googleapis.com",
    "xai": "https://api.x.ai",
    "deepseek": "https://api.deepseek.com",
    "mistral": "https://api.mistral.ai",
}

DEFAULT_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class CompletionRequest:
    """What to ask, independent of the wire format.

    `extra` is merged last into the request body, for provider options this
    layer does not model (for instance `reasoning_effort` or `thinking`).
    """

    messages: tuple[Message, ...]
    max_output_tokens: int = 1024
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_prompt(
        cls, prompt: str, *, system: str | None = None, **options: Any
    ) -> CompletionRequest:
        """The common case of one user prompt with an optional system preamble."""
        messages = (Message("system", system),) if system else ()
        return cls(messages=(*messages, Message("user", prompt)), **options)


@dataclass(frozen=True)
class ProviderTarget:
    """Where and how to call: built by the caller from a provider row and a model.

    The key is excluded from the repr so that a target can be logged or put in
    an exception without leaking it.
    """

    api_style: ApiStyle
    base_url: str
    model_id: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    # Used for log context and for the few per-provider wire quirks.
    provider_name: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, normalised across styles.

    `input_tokens` is the whole prompt, cache reads (`cached_input_tokens`) and
    cache writes (`cache_creation_input_tokens`) included; `output_tokens` is the
    whole completion, reasoning included. The parts are never added on top.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cache_creation_input_tokens: int = 0

    def __post_init__(self) -> None:
        counts = (
            self.input_tokens,
            self.output_tokens,
            self.cached_input_tokens,
            self.reasoning_tokens,
            self.cache_creation_input_tokens,
        )
        if min(counts) < 0:
            raise ValueError(f"token counts must be >= 0: {self}")
        if self.cached_input_tokens + self.cache_creation_input_tokens > self.input_tokens:
            raise ValueError(f"cached tokens exceed input tokens: {self}")
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError(f"reasoning tokens exceed output tokens: {self}")


@dataclass(frozen=True)
class Completion:
    """A successful call.

    `finish_reason` is normalised to stop, length, content_filter, tool_calls or
    other; the provider's own value stays in `raw`, the decoded response body.
    """

    text: str
    usage: Usage
    finish_reason: str
    model_version: str | None
    raw: Mapping[str, Any]
    duration_ms: float = 0.0

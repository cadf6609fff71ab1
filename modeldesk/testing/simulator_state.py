"""Configuration, scripted outcomes and statistics of the provider simulator.

Everything here is plain data behind one lock, because the server runs on its
own thread while a test configures it and reads its counters from another.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

# Enough for any test or benchmark; a bound keeps a long-running simulator small.
MAX_RECORDED_REQUESTS = 10_000
DEFAULT_CONFIG_KEY = "*"


class OutcomeKind(StrEnum):
    OK = "ok"
    RATE_LIMIT = "rate_limit"
    ERROR = "error"
    MALFORMED = "malformed"
    HANG = "hang"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Outcome:
    """One scripted response.

    `status` applies to ERROR (required) and RATE_LIMIT (default 429);
    `retry_after` is sent verbatim as the Retry-After header; `message` replaces
    the default error message (a 403 whose message says "Quota exceeded" is a
    rate limit by body); `latency` overrides the model's latency once.
    """

    kind: OutcomeKind = OutcomeKind.OK
    status: int | None = None
    retry_after: str | None = None
    message: str | None = None
    latency: float | None = None

    @classmethod
    def ok(cls, *, latency: float | None = None) -> Outcome:
        return cls(OutcomeKind.OK, latency=latency)

    @classmethod
    def rate_limit(
        cls,
        retry_after: str | float | None = None,
        *,
        status: int = 429,
        message: str | None = None,
    ) -> Outcome:
        after = None if retry_after is None else str(retry_after)
        return cls(OutcomeKind.RATE_LIMIT, status=status, retry_after=after, message=message)

    @classmethod
    def error(
        cls, status: int, message: str | None = None, *, retry_after: str | None = None
    ) -> Outcome:
        return cls(OutcomeKind.ERROR, status=status, message=message, retry_after=retry_after)

    @classmethod
    def malformed(cls) -> Outcome:
        return cls(OutcomeKind.MALFORMED)

    @classmethod
    def hang(cls) -> Outcome:
        """Never answer; the request ends when the client gives up or the server stops."""
        return cls(OutcomeKind.HANG)

    @classmethod
    def blocked(cls) -> Outcome:
        """A safety block: Gemini's promptFeedback, a content filter or refusal elsewhere."""
        return cls(OutcomeKind.BLOCKED)

    @classmethod
    def parse(cls, spec: Outcome | str | int | Mapping[str, Any]) -> Outcome:
        """Accept "ok", "429", "503", "malformed", "hang", "blocked", or a JSON object."""
        if isinstance(spec, Outcome):
            return spec
        if isinstance(spec, Mapping):
            data = dict(spec)
            kind = OutcomeKind(data.pop("kind", "ok"))
            if "retry_after" in data and data["retry_after"] is not None:
                data["retry_after"] = str(data["retry_after"])
            if kind is OutcomeKind.RATE_LIMIT:
                data.setdefault("status", 429)
            if kind is OutcomeKind.ERROR and not isinstance(data.get("status"), int):
                raise ValueError("an error outcome needs an integer status")
            return cls(kind, **data)
        text = str(spec).strip().lower()
        if text.isdigit():
            status = int(text)
            return cls.rate_limit() if status == 429 else cls.error(status)
        if text == "5xx":
            return cls.error(500)
        return cls(OutcomeKind(text))

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ModelConfig:
    """How the simulator answers for one model.

    Token figures are the normalised totals (input includes cached, output
    includes reasoning); each API style splits them the way that API does.
    Unset `input_tokens`/`output_tokens` are derived from the text lengths.
    `provider` tags the model for the per-provider concurrency counters;
    untagged models count under their API style ("openai", "anthropic", "gemini").
    The tag "xai" also shapes usage as xAI does (reasoning outside completion_tokens).
    """

    latency: float = 0.0
    outcomes: tuple[Outcome, ...] = ()
    then: Outcome = field(default_factory=Outcome.ok)
    text: str | None = None
    # (fragment, answer): the first answer whose fragment the prompt contains
    # wins over `text`, so one model (a judge) can answer each prompt its own way.
    replies: tuple[tuple[str, str], ...] = ()
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cache_creation_tokens: int = 0
    model_version: str | None = None
    provider: str | None = None

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        counts = (self.cached_tokens, self.reasoning_tokens, self.cache_creation_tokens)
        if min(counts) < 0 or (self.input_tokens or 0) < 0 or (self.output_tokens or 0) < 0:
            raise ValueError("token counts must be >= 0")
        if self.input_tokens is not None and (
            self.cached_tokens + self.cache_creation_tokens > self.input_tokens
        ):
            raise ValueError("cached tokens are part of input_tokens and cannot exceed it")
        if self.output_tokens is not None and self.reasoning_tokens > self.output_tokens:
            raise ValueError("reasoning tokens are part of output_tokens and cannot exceed it")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelConfig:
        fields = dict(data)
        unknown = set(fields) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        outcomes = fields.get("outcomes", ())
        if isinstance(outcomes, str | Mapping):
            raise ValueError("outcomes must be a list")
        fields["outcomes"] = tuple(Outcome.parse(o) for o in outcomes)
        fields["replies"] = tuple(
            (str(key), str(answer)) for key, answer in fields.get("replies", ())
        )
        if "then" in fields:
            fields["then"] = Outcome.parse(fields["then"])
        return cls(**fields)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data["outcomes"] = [o.to_json() for o in self.outcomes]
        data["then"] = self.then.to_json()
        return data


def fingerprint(secret: str) -> str:
    """What the simulator records instead of a key: enough to compare, useless to steal."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


_SECRET_HEADERS = frozenset({"x-api-key", "x-goog-api-key", "api-key"})


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Request headers with every credential replaced by its fingerprint."""
    safe: dict[str, str] = {}
    for name, value in headers.items():
        name = name.lower()
        if name == "authorization":
            scheme, _, credential = value.partition(" ")
            safe[name] = f"{scheme} {fingerprint(credential)}" if credential else fingerprint(value)
        elif name in _SECRET_HEADERS:
            safe[name] = fingerprint(value)
        else:
            safe[name] = value
    return safe


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as received; credentials are fingerprints (see `fingerprint`)."""

    style: str
    model: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    started_at: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Counter:
    requests: int = 0
    current: int = 0
    max_concurrent: int = 0
    starts: list[float] = field(default_factory=list)

    def begin(self, now: float) -> None:
        self.requests += 1
        self.current += 1
        self.max_concurrent = max(self.max_concurrent, self.current)
        self.starts.append(now)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "current": self.current,
            "max_concurrent": self.max_concurrent,
            "starts": list(self.starts),
        }


class SimulatorState:
    """Per-model configuration, the scripted outcomes left, counters and the request log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._configs: dict[str, ModelConfig] = {}
        self._pending: dict[str, deque[Outcome]] = {}
        self._models: dict[str, _Counter] = {}
        self._providers: dict[str, _Counter] = {}
        self._requests: deque[RecordedRequest] = deque(maxlen=MAX_RECORDED_REQUESTS)

    def configure(self, model: str, config: ModelConfig) -> None:
        """Replace a model's configuration and restart its script ("*": the default)."""
        with self._lock:
            self._configs[model] = config
            self._pending[model] = deque(config.outcomes)

    def config_for(self, model: str) -> ModelConfig:
        with self._lock:
            return self._config_for(model)

    def _config_for(self, model: str) -> ModelConfig:
        config = self._configs.get(model) or self._configs.get(DEFAULT_CONFIG_KEY)
        return config or ModelConfig()

    def reset(self) -> None:
        """Forget every configuration, counter and recorded request."""
        with self._lock:
            self._configs.clear()
            self._pending.clear()
            self._models.clear()
            self._providers.clear()
            self._requests.clear()

    def begin(
        self, style: str, model: str, record: RecordedRequest
    ) -> tuple[ModelConfig, Outcome, str]:
        """Count a request in and take its scripted outcome; returns (config, outcome, tag)."""
        with self._lock:
            config = self._config_for(model)
            key = model if model in self._configs else DEFAULT_CONFIG_KEY
            pending = self._pending.get(key)
            outcome = pending.popleft() if pending else config.then
            tag = config.provider or style
            now = record.started_at
            self._models.setdefault(model, _Counter()).begin(now)
            self._providers.setdefault(tag, _Counter()).begin(now)
            self._requests.append(record)
            return config, outcome, tag

    def end(self, model: str, tag: str) -> None:
        """Count a request out; one begun before a reset is no longer counted."""
        with self._lock:
            for counter in (self._models.get(model), self._providers.get(tag)):
                if counter is not None:
                    counter.current = max(0, counter.current - 1)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "models": {m: c.to_json() for m, c in self._models.items()},
                "providers": {p: c.to_json() for p, c in self._providers.items()},
            }

    def recorded(self, model: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self._requests if model is None or r.model == model]

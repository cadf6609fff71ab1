"""Settings read from the environment, in one place.

Everything configurable lives here so that a reader can see every knob at once,
and so tests can build a `Settings` explicitly instead of patching globals.
pydantic-settings reads and checks the `MODELDESK_*` variables; a bad value
becomes one `ConfigurationError` naming the variable and what it expects, which
the CLI prints as a single line (exit status 2) instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
import pydantic
from pydantic import BeforeValidator, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "MODELDESK_"
DEFAULT_RATE_LIMIT_BACKOFF: tuple[float, ...] = (30.0, 60.0, 90.0, 120.0)


class ConfigurationError(Exception):
    """A `MODELDESK_*` variable holds a value the program cannot use."""

    def __init__(self, variable: str, expected: str) -> None:
        super().__init__(f"{variable}: {expected}")
        self.variable = variable
        self.expected = expected


def parse_backoff(raw: str | None) -> tuple[float, ...]:
    """Parse `MODELDESK_RATE_LIMIT_BACKOFF` ("30,60,90,120", in seconds)."""
    if raw is None or not raw.strip():
        return DEFAULT_RATE_LIMIT_BACKOFF
    steps: list[float] = []
    for part in raw.split(","):
        try:
            value = float(part.strip())
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not a number of seconds") from None
        if not 0 <= value < float("inf"):
            raise ValueError(f"a step must be a finite number of seconds >= 0, not {part.strip()}")
        steps.append(value)
    return tuple(steps)


# An environment variable name, as a provider's `apiKeyEnv` or in MODELDESK_PROVIDER_KEY_VARS.
ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _comma_separated(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_key_variables(raw: str | None) -> tuple[str, ...]:
    """Parse `MODELDESK_PROVIDER_KEY_VARS`: extra variable names a provider may take its key from.

    `MODELDESK_*` names are refused even here: they hold the server's own
    configuration (the database URL among them), never a provider's key.
    """
    names: list[str] = []
    for name in _comma_separated(raw or ""):
        if not ENV_VAR_NAME.match(name):
            raise ValueError(f"{name[:100]!r} is not an environment variable name")
        if name.upper().startswith(ENV_PREFIX):
            raise ValueError(f"{name} is modeldesk's own setting, not a provider key")
        names.append(name)
    return tuple(names)


def parse_host_patterns(raw: str | None) -> tuple[str, ...]:
    """Parse `MODELDESK_ALLOWED_PROVIDER_HOSTS`: host names or addresses, `*.example.com`
    for any host under example.com; lower-cased. A bare `*` is refused: it would let
    a provider's key go anywhere, which is what the list exists to prevent."""
    patterns: list[str] = []
    for pattern in _comma_separated(raw or ""):
        host = pattern.lower().removeprefix("*.")
        if not _is_host(host):
            raise ValueError(
                f"{pattern[:100]!r} is not a host name, an address or *.domain (no scheme or port)"
            )
        patterns.append(pattern.lower())
    return tuple(patterns)


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        labels = host.split(".")
        return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def _from_text(parse: Callable[[str], Any]) -> BeforeValidator:
    """Parse a value read from the environment, which is text; one given in code passes as is."""
    return BeforeValidator(lambda value: parse(value) if isinstance(value, str) else value)


# Settings given as text in the environment, parsed; NoDecode keeps pydantic-settings
# from reading a tuple's text as JSON first.
BackoffSteps = Annotated[tuple[float, ...], NoDecode, _from_text(parse_backoff)]
KeyVariables = Annotated[tuple[str, ...], NoDecode, _from_text(parse_key_variables)]
HostPatterns = Annotated[tuple[str, ...], NoDecode, _from_text(parse_host_patterns)]
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    _from_text(lambda text: text.strip().upper()),
]
LogFormat = Annotated[Literal["text", "json"], _from_text(lambda text: text.strip().lower())]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("modeldesk", appauthor=False))


class Settings(BaseSettings):
    """Every setting, each read from `MODELDESK_<NAME>` unless given explicitly."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", env_ignore_empty=True
    )

    database_url: str | None = Field(
        default=None, description="a postgresql:// URL (unset: the embedded server)"
    )
    data_dir: Path = Field(default_factory=_default_data_dir, description="a directory path")
    rate_limit_backoff: BackoffSteps = Field(
        default=DEFAULT_RATE_LIMIT_BACKOFF,
        description="seconds before each retry after a rate limit, comma-separated, e.g. 30,60",
    )
    # Prices used when a model has none recorded: flagged `unpriced`, never $0.
    fallback_input_price: Decimal = Field(
        default=Decimal("10"), ge=0, allow_inf_nan=False, description="USD per million tokens >= 0"
    )
    fallback_output_price: Decimal = Field(
        default=Decimal("30"), ge=0, allow_inf_nan=False, description="USD per million tokens >= 0"
    )
    # pgqueuer's log gains three rows per job; workers trim what is older (SPEC 9.7).
    queue_log_retention: float = Field(
        default=24 * 3600,
        gt=0,
        allow_inf_nan=False,
        description="seconds pgqueuer's log keeps a job's rows, e.g. 86400 (24 h)",
    )
    # Reference prices for proposals; unset: the data bundled with the pinned genai-prices.
    prices_file: pydantic.FilePath | None = Field(
        default=None,
        description="the path of an existing genai-prices data file (its data.json format)",
    )
    limits_refresh_seconds: float = Field(
        default=2.0, gt=0, allow_inf_nan=False, description="a number of seconds > 0"
    )
    # A job whose worker sent no heartbeat for this long (killed mid-job) is run
    # again by another worker; heartbeats go out at half this interval.
    job_heartbeat_seconds: float = Field(
        default=10.0, gt=0, allow_inf_nan=False, description="a number of seconds > 0"
    )
    # On SIGTERM a worker lets its in-flight jobs finish for this long, then
    # puts the rest back in the queue for other workers.
    shutdown_grace_seconds: float = Field(
        default=30.0, ge=0, allow_inf_nan=False, description="a number of seconds >= 0"
    )
    log_level: LogLevel = Field(
        default="INFO", description="one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )
    # json: one JSON object per line, for log shippers; text is for people at a terminal.
    log_format: LogFormat = Field(default="text", description="text or json")
    # Key variables a provider may name besides `*_API_KEY` ones (SPEC 9.6).
    provider_key_vars: KeyVariables = Field(
        default=(),
        description="environment variable names, comma-separated, none starting with MODELDESK_",
    )
    # Where a provider's key may be sent besides its official API host and loopback.
    allowed_provider_hosts: HostPatterns = Field(
        default=(),
        description="host names or addresses, comma-separated; *.example.com for its subdomains",
    )
    # The byte budget of the API's caches (responses, parsed and validated documents).
    cache_mb: float = Field(
        default=64, gt=0, le=65536, allow_inf_nan=False, description="megabytes > 0"
    )

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("postgresql://", "postgres://", "postgresql+asyncpg://")
        ):
            raise ValueError("not a postgresql:// URL")
        return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the process environment, with `environ`'s entries (if given) over it.

    Raises `ConfigurationError` for the first variable whose value is unusable.
    """
    try:
        if environ is None:
            return Settings()
        return Settings.model_validate(_settings_fields(environ))
    except pydantic.ValidationError as exc:
        raise _configuration_error(exc) from None


def _settings_fields(environ: Mapping[str, str]) -> dict[str, str]:
    """The `MODELDESK_*` entries of an explicit mapping, by field name (empty means unset)."""
    fields: dict[str, str] = {}
    for name in Settings.model_fields:
        value = environ.get(ENV_PREFIX + name.upper(), "")
        if value:
            fields[name] = value
    return fields


def _configuration_error(exc: pydantic.ValidationError) -> ConfigurationError:
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    field = Settings.model_fields.get(name)
    expected = (field.description if field is not None else None) or "a valid value"
    reason = str(error["msg"]).removeprefix("Value error, ")
    return ConfigurationError(ENV_PREFIX + name.upper(), f"expected {expected} ({reason})")

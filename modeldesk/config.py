"""Settings read from the environment, in one place.

Everything configurable lives here so that a reader can see every knob at once,
and so tests can build a `Settings` explicitly instead of patching globals.
pydantic-settings reads and checks the `MODELDESK_*` variables; a bad value
becomes one `ConfigurationError` naming the variable and what it expects, which
the CLI prints as a single line (exit status 2) instead of a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
import pydantic
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "MODELDESK_"
DEFAULT_RATE_LIMIT_BACKOFF: tuple[float, ...] = (30.0, 60.0, 90.0, 120.0)
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


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
    rate_limit_backoff: Annotated[tuple[float, ...], NoDecode] = Field(
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

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(
            ("postgresql://", "postgres://", "postgresql+asyncpg://")
        ):
            raise ValueError("not a postgresql:// URL")
        return value

    @field_validator("rate_limit_backoff", mode="before")
    @classmethod
    def _comma_separated_seconds(cls, value: Any) -> Any:
        return parse_backoff(value) if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


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


def api_key_from_env(env_var: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The API key a provider names, or None when it is not configured."""
    if not env_var:
        return None
    value = (os.environ if environ is None else environ).get(env_var, "")
    return value or None

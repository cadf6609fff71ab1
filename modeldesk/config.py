"""Settings read from the environment, in one place.

Everything configurable lives here so that a reader can see every knob at once,
and so tests can build a `Settings` explicitly instead of patching globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import platformdirs

DEFAULT_RATE_LIMIT_BACKOFF: tuple[float, ...] = (30.0, 60.0, 90.0, 120.0)


def parse_backoff(raw: str | None) -> tuple[float, ...]:
    """Parse `MODELDESK_RATE_LIMIT_BACKOFF` ("30,60,90,120", in seconds)."""
    if raw is None or not raw.strip():
        return DEFAULT_RATE_LIMIT_BACKOFF
    steps: list[float] = []
    for part in raw.split(","):
        value = float(part.strip())
        if value < 0:
            raise ValueError(f"MODELDESK_RATE_LIMIT_BACKOFF has a negative step: {part!r}")
        steps.append(value)
    return tuple(steps)


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("modeldesk", appauthor=False))


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = field(default_factory=_default_data_dir)
    rate_limit_backoff: tuple[float, ...] = DEFAULT_RATE_LIMIT_BACKOFF
    # Prices used when a model has none recorded: flagged `unpriced`, never $0.
    fallback_input_price: Decimal = Decimal("10")
    fallback_output_price: Decimal = Decimal("30")
    limits_refresh_seconds: float = 2.0
    # A job whose worker sent no heartbeat for this long (killed mid-job) is run
    # again by another worker; heartbeats go out at half this interval.
    job_heartbeat_seconds: float = 10.0
    # On SIGTERM a worker lets its in-flight jobs finish for this long, then
    # puts the rest back in the queue for other workers.
    shutdown_grace_seconds: float = 30.0
    log_level: str = "INFO"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    data_dir = env.get("MODELDESK_DATA_DIR")
    return Settings(
        database_url=env.get("MODELDESK_DATABASE_URL") or None,
        data_dir=Path(data_dir) if data_dir else _default_data_dir(),
        rate_limit_backoff=parse_backoff(env.get("MODELDESK_RATE_LIMIT_BACKOFF")),
        limits_refresh_seconds=float(env.get("MODELDESK_LIMITS_REFRESH_SECONDS", "2")),
        job_heartbeat_seconds=float(env.get("MODELDESK_JOB_HEARTBEAT_SECONDS", "10")),
        shutdown_grace_seconds=float(env.get("MODELDESK_SHUTDOWN_GRACE_SECONDS", "30")),
        log_level=env.get("MODELDESK_LOG_LEVEL", "INFO"),
    )


def api_key_from_env(env_var: str | None, environ: dict[str, str] | None = None) -> str | None:
    """The API key a provider names, or None when it is not configured."""
    if not env_var:
        return None
    value = (os.environ if environ is None else environ).get(env_var, "")
    return value or None

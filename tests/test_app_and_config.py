from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from modeldesk.app import create_app
from modeldesk.config import (
    DEFAULT_RATE_LIMIT_BACKOFF,
    ConfigurationError,
    load_settings,
    parse_backoff,
)
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.db.urls import asyncpg_dsn, sqlalchemy_url


async def _healthz(database: Database) -> httpx.Response:
    app = create_app(
        AppContext(settings=load_settings({}), db=database, owns_embedded_server=False)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/healthz")


async def test_healthz_is_200_while_the_database_answers(db: Database) -> None:
    response = await _healthz(db)
    assert response.status_code == 200 and response.json()["database"] == "reachable"


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    unreachable = Database("postgresql://postgres@127.0.0.1:1/nothing", pool_size=1)
    try:
        response = await _healthz(unreachable)
    finally:
        await unreachable.dispose()
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_backoff_schedule_parsing() -> None:
    assert parse_backoff(None) == DEFAULT_RATE_LIMIT_BACKOFF == (30, 60, 90, 120)
    assert parse_backoff(" 0.5, 1 ,2") == (0.5, 1.0, 2.0)
    with pytest.raises(ValueError, match=">= 0"):
        parse_backoff("1,-2")
    with pytest.raises(ValueError, match="'soon' is not a number"):
        parse_backoff("soon")
    with pytest.raises(ValueError, match="finite"):
        parse_backoff("inf")


def test_a_bad_value_names_its_variable_and_what_it_expects() -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"MODELDESK_RATE_LIMIT_BACKOFF": "30,abc"})
    assert refused.value.variable == "MODELDESK_RATE_LIMIT_BACKOFF"
    assert "comma-separated" in refused.value.expected and "'abc'" in refused.value.expected
    with pytest.raises(ConfigurationError, match="MODELDESK_FALLBACK_INPUT_PRICE"):
        load_settings({"MODELDESK_FALLBACK_INPUT_PRICE": "-1"})
    assert load_settings({"MODELDESK_LOG_LEVEL": " debug "}).log_level == "DEBUG"


def test_the_process_environment_is_read_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODELDESK_SHUTDOWN_GRACE_SECONDS", "4.5")
    monkeypatch.setenv("MODELDESK_RATE_LIMIT_BACKOFF", "")
    settings = load_settings()
    assert settings.shutdown_grace_seconds == 4.5
    assert settings.rate_limit_backoff == DEFAULT_RATE_LIMIT_BACKOFF
    monkeypatch.setenv("MODELDESK_LIMITS_REFRESH_SECONDS", "nan")
    with pytest.raises(ConfigurationError, match="MODELDESK_LIMITS_REFRESH_SECONDS"):
        load_settings()


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "MODELDESK_DATABASE_URL": "postgresql://u@h/db",
            "MODELDESK_DATA_DIR": str(tmp_path),
            "MODELDESK_RATE_LIMIT_BACKOFF": "1,2",
            "MODELDESK_LIMITS_REFRESH_SECONDS": "0.5",
        }
    )
    assert settings.database_url == "postgresql://u@h/db"
    assert settings.data_dir == tmp_path
    assert settings.rate_limit_backoff == (1.0, 2.0)
    assert settings.limits_refresh_seconds == 0.5
    assert settings.fallback_input_price == Decimal("10")
    default = load_settings({})
    assert default.database_url is None and default.data_dir.name == "modeldesk"


def test_database_urls_are_normalised_per_driver() -> None:
    assert sqlalchemy_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert asyncpg_dsn("postgresql+asyncpg://u@h/db") == "postgresql://u@h/db"
    with pytest.raises(ValueError, match="postgresql://"):
        sqlalchemy_url("mysql://u@h/db")

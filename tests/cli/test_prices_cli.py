"""`modeldesk prices check` and `modeldesk prices apply` as real processes on a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from price_reference_data import DIFFERING, NOT_COMPARED, write_prices_file
from sqlalchemy import select

from modeldesk.db.seed import seed_catalog
from modeldesk.db.session import Database
from modeldesk.db.tables import AuditEntry


def _prices(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modeldesk.cli", "prices", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MODELDESK_DATABASE_URL"] = database_url
    env["MODELDESK_PRICES_FILE"] = str(write_prices_file(tmp_path / "data.json"))
    return env


async def test_check_prints_each_difference_and_each_unknown_model(
    db: Database, cli_env: dict[str, str]
) -> None:
    await seed_catalog(db)
    result = _prices("check", env=cli_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Reference prices: {cli_env['MODELDESK_PRICES_FILE']}" in out
    assert "xai -> x-ai: 1 models" in out and "mistral -> mistral: no such provider" in out
    assert "10 active models: 3 differ from the reference, 5 not known to it, 2 match it." in out
    for identifier in DIFFERING | NOT_COMPARED:
        assert identifier in out
    assert "    cached input: none -> 0.025" in out
    assert (
        "    long-context tier: none -> over 200,000 prompt tokens: input 6, cached input 0.6"
        in out
    )
    assert "    input: 0.28 -> 0.3" in out and "note: time-of-day prices" in out


async def test_apply_named_models_then_all(db: Database, cli_env: dict[str, str]) -> None:
    await seed_catalog(db)
    named = _prices("apply", "openai/gpt-5-mini", env=cli_env)
    assert named.returncode == 0, named.stderr
    assert "applied openai/gpt-5-mini (GPT-5 mini)" in named.stdout
    assert "1 price proposals applied" in named.stdout

    refused = _prices("apply", "openai/gpt-5.1", env=cli_env)
    assert refused.returncode == 1 and "VALIDATION_ERROR" in refused.stderr
    assert _prices("apply", env=cli_env).returncode == 1  # neither models nor --all

    everything = _prices("apply", "--all", env=cli_env)
    assert everything.returncode == 0, everything.stderr
    assert "2 price proposals applied" in everything.stdout
    assert "No price proposals" in _prices("apply", "--all", env=cli_env).stdout

    async with db.session() as session:
        actors = set(
            await session.scalars(
                select(AuditEntry.actor).where(AuditEntry.action == "model.apply_price_proposal")
            )
        )
    assert actors == {"cli"}

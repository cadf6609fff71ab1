"""Fixtures for the runs tests: the seed catalogue pointed at the provider simulator.

Every seeded provider's base URL is the session simulator and its key variable
is set, so any model can be probed; tests that need a provider without a key
unset its variable with `monkeypatch`.
"""

from __future__ import annotations

import httpx
import pytest
from runs_support import BACKOFF, KEY_VARIABLES, Driver
from sqlalchemy import update

from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.testing import Simulator


@pytest.fixture
def settings() -> Settings:
    return Settings(rate_limit_backoff=BACKOFF)


@pytest.fixture
async def catalog(seeded_db: Database, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The seed catalogue, every provider calling the simulator with a key set."""
    for variable in KEY_VARIABLES:
        monkeypatch.setenv(variable, f"test-key-{variable.lower()}")
    async with seeded_db.transaction() as session:
        await session.execute(update(LlmProvider).values(base_url=sim.url))
    return seeded_db


@pytest.fixture
def driver(catalog: Database, settings: Settings, client: httpx.AsyncClient) -> Driver:
    return Driver(catalog, settings, client)

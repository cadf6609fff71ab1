"""Fixtures for the queue tests: the simulator as every provider, gate pools, worker fleets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.adapters.persistence.queries import Queries
from queue_support import GENERATED_SCENARIOS, InProcessWorker, StartWorker

from modeldesk.auth.principal import Principal
from modeldesk.catalog import infra_setting_key, update_setting
from modeldesk.config import Settings, load_settings
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.queue.gate_pool import open_gate_pool
from modeldesk.queue.jobs import JobServices
from modeldesk.testing import Simulator
from modeldesk.testing.probe_runs import add_simulated_provider
from modeldesk.testing.worker_fleet import FAST_SETTINGS, WorkerFleet


@pytest.fixture
async def gate_pool(db: Database) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_gate_pool(db.url, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def services(
    db: Database, gate_pool: asyncpg.Pool, fast_settings: Settings
) -> AsyncIterator[JobServices]:
    """What a worker's job handlers share, on the test's database."""
    async with httpx.AsyncClient() as client:
        yield JobServices(
            db=db,
            gate_pool=gate_pool,
            queries=Queries(AsyncpgPoolDriver(gate_pool)),
            settings=fast_settings,
            client=client,
        )


@pytest.fixture
async def infra_provider(
    db: Database, admin: Principal, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> LlmProvider:
    """A simulated provider whose model is the scenario-expansion model.

    It answers `GENERATED_SCENARIOS`; its key variable is set, as an
    infrastructure model's provider must have a key to be usable.
    """
    monkeypatch.setenv("SIMULATOR_API_KEY", "sk-simulated-key")
    provider, model = await add_simulated_provider(
        db, admin, sim.url, "infra", api_key_env="SIMULATOR_API_KEY"
    )
    sim.configure(model.model_id, provider=provider.name, text=json.dumps(GENERATED_SCENARIOS))
    await update_setting(
        db,
        admin,
        infra_setting_key("scenario_expansion"),
        {"providerName": provider.name, "modelId": model.model_id},
    )
    return provider


@pytest.fixture
def fleet(db: Database, database_url: str, tmp_path: Path) -> Iterator[WorkerFleet]:
    """Real worker processes; stopped (SIGTERM) before the test's database is let go."""
    with WorkerFleet(database_url, tmp_path) as workers:
        yield workers


@pytest.fixture
async def start_worker(db: Database, fast_settings: Settings) -> AsyncIterator[StartWorker]:
    """Starts an in-process worker, with `fast_settings` unless given others."""
    started: list[InProcessWorker] = []

    def start(settings: Settings | None = None) -> InProcessWorker:
        worker = InProcessWorker(db, settings or fast_settings)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if not worker.task.done():
            await worker.close()


@pytest.fixture
def fast_settings(database_url: str) -> Settings:
    """The settings a fleet's workers get (`FAST_SETTINGS`), for in-process use."""
    return load_settings({**FAST_SETTINGS, "MODELDESK_DATABASE_URL": database_url})

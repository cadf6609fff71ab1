"""Fixtures for the queue tests: the simulator as every provider, gate pools, worker fleets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.adapters.persistence.queries import Queries
from queue_support import GENERATED_SCENARIOS

from modeldesk.auth.principal import Principal
from modeldesk.catalog import infra_setting_key, update_setting
from modeldesk.config import Settings, load_settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.queue.gate_pool import open_gate_pool
from modeldesk.queue.jobs import JobServices
from modeldesk.queue.worker import run_worker
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


class InProcessWorker:
    """`run_worker` as a task of the test's own loop, for what needs no second process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.stop = asyncio.Event()
        context = AppContext(settings=settings, db=db, owns_embedded_server=False)
        self.task = asyncio.create_task(run_worker(context, shutdown=self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=30)


@pytest.fixture
async def start_worker(db: Database) -> AsyncIterator[Callable[[Settings], InProcessWorker]]:
    started: list[InProcessWorker] = []

    def start(settings: Settings) -> InProcessWorker:
        worker = InProcessWorker(db, settings)
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


Check = Callable[[], bool | Awaitable[bool]]


async def _eventually(check: Check, within: float = 15.0, what: str = "the condition") -> float:
    """Poll `check` until true; returns the seconds it took, fails after `within` seconds."""
    began = time.monotonic()
    while True:
        result = check()
        if result if isinstance(result, bool) else await result:
            return time.monotonic() - began
        if time.monotonic() - began > within:
            raise AssertionError(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.02)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[float]]:
    return _eventually

"""Fixtures for the queue tests: the simulator as every provider, gate pools, worker fleets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from modeldesk.config import Settings, load_settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.queue.gate_pool import open_gate_pool
from modeldesk.queue.worker import run_worker
from modeldesk.testing.worker_fleet import FAST_SETTINGS, WorkerFleet


@pytest.fixture
async def gate_pool(db: Database) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_gate_pool(db.url, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()


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

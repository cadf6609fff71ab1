"""Helpers shared by the queue tests (the fixtures live in conftest.py).

A module of its own, with a name no other test folder uses, so importing it
never picks up another folder's conftest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from pgqueuer.domain.models import Job
from pgqueuer.domain.types import JobId, QueueEntrypoint

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.job_queue import encode_payload
from modeldesk.db.run_tables import Run
from modeldesk.db.session import Database
from modeldesk.db.summary_tables import RunAnalysis
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import InfraWorkStatus
from modeldesk.queue.manager import ProviderQueueManager
from modeldesk.queue.worker import run_worker
from modeldesk.testing import Simulator
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run
from modeldesk.testing.worker_fleet import WorkerFleet

# What the simulated scenario-expansion model answers (see the `infra_provider` fixture).
GENERATED_SCENARIOS = ["Is the sky blue?", "Why is the sea salty?"]

Check = Callable[[], bool | Awaitable[bool]]


class InProcessWorker:
    """`run_worker` as a task of the test's own loop, for what needs no second process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.stop = asyncio.Event()
        context = AppContext(settings=settings, db=db, owns_embedded_server=False)
        self.task = asyncio.create_task(run_worker(context, shutdown=self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=30)


# The `start_worker` fixture: starts an `InProcessWorker`, with `fast_settings` unless given others.
StartWorker = Callable[..., InProcessWorker]


async def eventually(check: Check, within: float = 15.0, what: str = "the condition") -> float:
    """Poll `check` until true; returns the seconds it took, fails after `within` seconds."""
    began = time.monotonic()
    while True:
        result = check()
        if result if isinstance(result, bool) else await result:
            return time.monotonic() - began
        if time.monotonic() - began > within:
            raise AssertionError(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.02)


def picked_job(payload: dict[str, int], attempts: int = 0, entrypoint: str = "probe.gated") -> Job:
    """A job as a worker hands it to a handler: picked, with this payload."""
    now = datetime.now(UTC)
    return Job(
        id=JobId(1),
        priority=0,
        created=now,
        updated=now,
        heartbeat=now,
        execute_after=now,
        status="picked",
        entrypoint=QueueEntrypoint(entrypoint),
        payload=encode_payload(payload),
        attempts=attempts,
        queue_manager_id=None,
        headers=None,
    )


async def provider_held_until(pool: asyncpg.Pool, provider_id: int) -> datetime | None:
    """The end of the provider's current hold, or None when it is not held."""
    held_until: datetime | None = await pool.fetchval(
        "SELECT held_until FROM provider_holds"
        " WHERE provider_id = $1 AND held_until > clock_timestamp()",
        provider_id,
    )
    return held_until


def concurrency_limit(manager: ProviderQueueManager, name: str) -> int:
    """The concurrency limit pgqueuer applies to entrypoint `name`."""
    limit: int = manager.entrypoint_registry[QueueEntrypoint(name)].parameters.concurrency_limit
    return limit


async def answering_provider(
    db: Database,
    admin: Principal,
    sim: Simulator,
    name: str,
    *,
    parallel: int = 1,
    requests_per_minute: int = 10_000,
    **answers: Any,
) -> tuple[LlmProvider, LlmModel]:
    """`add_simulated_provider`, with the simulator told how its model answers (`answers`)."""
    provider, model = await add_simulated_provider(
        db, admin, sim.url, name, parallel=parallel, requests_per_minute=requests_per_minute
    )
    sim.configure(model.model_id, provider=provider.name, **answers)
    return provider, model


async def run_on_new_provider(
    db: Database, admin: Principal, sim: Simulator, name: str, *, probes: int, **provider: Any
) -> tuple[LlmProvider, LlmModel, Run]:
    """A run of `probes` probes on a new `answering_provider`."""
    added, model = await answering_provider(db, admin, sim, name, **provider)
    return added, model, await queue_probe_run(db, admin, [model], probes)


async def run_on_workers(
    db: Database,
    admin: Principal,
    sim: Simulator,
    fleet: WorkerFleet,
    name: str,
    *,
    workers: int,
    probes: int,
    **provider: Any,
) -> tuple[LlmProvider, LlmModel, Run]:
    """A run of `probes` probes on a new `answering_provider`, once `workers` worker
    processes serve the queue."""
    added, model = await answering_provider(db, admin, sim, name, **provider)
    fleet.start(workers)
    fleet.wait_until_started()
    return added, model, await queue_probe_run(db, admin, [model], probes)


def simulator_count(sim: Simulator, provider: str, field: str = "requests") -> int:
    """The simulator's counter `field` for the provider (0 before its first call)."""
    count: int = sim.stats()["providers"].get(provider, {}).get(field, 0)
    return count


async def run_analysis(db: Database, run_id: int) -> RunAnalysis | None:
    async with db.session() as session:
        return await session.get(RunAnalysis, run_id)


async def finished_analysis(db: Database, run_id: int, within: float) -> RunAnalysis:
    """The run's analysis once it has completed or failed."""

    async def finished() -> bool:
        analysis = await run_analysis(db, run_id)
        return analysis is not None and analysis.status in (
            InfraWorkStatus.COMPLETED,
            InfraWorkStatus.FAILED,
        )

    await eventually(finished, within=within, what="the run's analysis")
    analysis = await run_analysis(db, run_id)
    assert analysis is not None
    return analysis

"""A run carried through a PostgreSQL crash, and what it cost, for the tests and the benchmark.

The database lives on a cluster of our own (`OwnedPostgres`), so it can be
stopped with `pg_ctl stop -m immediate` (every backend killed, no checkpoint:
a crash as the workers see it) and started again. Times are read from the
database where it can tell them (a transcript's `created_at`, a run's start
and end), so they do not depend on how often a test polls.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import func, select

from modeldesk.auth.principal import Principal
from modeldesk.db.migrate import upgrade_database
from modeldesk.db.run_tables import Run, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.runs.queries import get_run
from modeldesk.testing.owned_postgres import OwnedPostgres
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run, wait_for_run
from modeldesk.testing.simulator import Simulator
from modeldesk.testing.worker_fleet import WorkerFleet

DATABASE_NAME = "modeldesk"
# What a worker logs once it serves the queue again after an outage.
RECONNECTED = "database reachable again after"


@dataclass(frozen=True)
class Restart:
    """One crash and restart, in wall-clock time (PostgreSQL reads the same clock)."""

    crashed: datetime  # the immediate stop returned: every connection is gone
    accepting: datetime  # PostgreSQL accepts connections again

    @property
    def outage_seconds(self) -> float:
        return (self.accepting - self.crashed).total_seconds()


@dataclass(frozen=True)
class TranscriptTally:
    transcripts: int
    probes_with_one: int  # distinct probes among them


async def create_owned_database(postgres: OwnedPostgres) -> str:
    """A migrated modeldesk database on the owned cluster; its URL."""
    admin = await asyncpg.connect(postgres.url())
    try:
        await admin.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        await admin.close()
    url = postgres.url(DATABASE_NAME)
    await upgrade_database(url)
    return url


async def wait_for_progress(db: Database, run_id: int, done: int, within: float = 30.0) -> None:
    """Return once at least `done` probes of the run have finished."""
    deadline = time.monotonic() + within
    while True:
        run = await get_run(db, run_id)
        if run.completed + run.failed >= done:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id}: {run.completed} of {done} probes after {within} s")
        await asyncio.sleep(0.02)


async def crash_and_restart(
    postgres: OwnedPostgres,
    db: Database,
    down_for: float,
    while_down: Callable[[], Awaitable[None]] | None = None,
) -> Restart:
    """Crash the cluster, keep it down `down_for` seconds, start it again.

    `while_down` (say, checks of what clients see meanwhile) runs right after
    the crash, within the `down_for` seconds. `db` is the caller's own engine
    on the cluster: its pooled connections died with the server, so they are
    discarded, as a process that knew of the crash would.
    """
    postgres.crash()
    crashed = datetime.now(UTC)
    began = time.monotonic()
    if while_down is not None:
        await while_down()
    # The rest of the outage being simulated, not a wait for a condition.
    await asyncio.sleep(max(0.0, down_for - (time.monotonic() - began)))
    await asyncio.to_thread(postgres.start)
    accepting = datetime.now(UTC)
    await db.engine.dispose()
    return Restart(crashed=crashed, accepting=accepting)


async def recovery_seconds(
    db: Database, run_id: int, restart: Restart, within: float = 30.0
) -> float:
    """From PostgreSQL accepting connections again to the run's next recorded transcript."""
    deadline = time.monotonic() + within
    while True:
        async with db.session() as session:
            first = await session.scalar(
                select(func.min(Transcript.created_at)).where(
                    Transcript.run_id == run_id, Transcript.created_at >= restart.accepting
                )
            )
        if first is not None:
            return (first - restart.accepting).total_seconds()
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id}: no transcript within {within} s of the restart")
        await asyncio.sleep(0.02)


async def run_seconds(db: Database, run_id: int) -> float:
    """From the run's first probe starting to its last one finishing."""
    async with db.session() as session:
        run = await session.get(Run, run_id)
    if run is None or run.started_at is None or run.finished_at is None:
        raise ValueError(f"run {run_id} has not finished")
    return (run.finished_at - run.started_at).total_seconds()


async def tally_transcripts(db: Database, run_id: int) -> TranscriptTally:
    async with db.session() as session:
        transcripts, probes = (
            await session.execute(
                select(func.count(), func.count(Transcript.probe_id.distinct())).where(
                    Transcript.run_id == run_id
                )
            )
        ).one()
    return TranscriptTally(int(transcripts), int(probes))


@dataclass(frozen=True)
class Workload:
    """A run of `probes` calls on one simulated provider, served by `workers` processes."""

    probes: int = 60
    parallel: int = 4
    latency: float = 0.2
    workers: int = 2
    heartbeat_seconds: float = 10.0

    def fleet_env(self) -> dict[str, str]:
        return {"MODELDESK_JOB_HEARTBEAT_SECONDS": str(self.heartbeat_seconds)}


@dataclass(frozen=True)
class CrashedRun:
    run: Run
    restart: Restart
    recovery_seconds: float  # PostgreSQL accepting again -> the next transcript
    finished_after_restart: float  # PostgreSQL accepting again -> the run's end
    run_seconds: float  # the run's first start -> its end, outage included
    provider_calls: int
    most_calls_of_one_probe: int
    worker_logs: list[str]


async def _simulated_model(
    db: Database, actor: Principal, sim: Simulator, name: str, workload: Workload
) -> LlmModel:
    provider, model = await add_simulated_provider(
        db, actor, sim.url, name, parallel=workload.parallel
    )
    sim.configure(model.model_id, provider=provider.name, latency=workload.latency)
    return model


async def run_without_crash(
    db: Database, actor: Principal, sim: Simulator, log_dir: Path, workload: Workload, name: str
) -> float:
    """The workload's run time with nothing going wrong: the figure a crash is set against."""
    model = await _simulated_model(db, actor, sim, name, workload)
    with WorkerFleet(db.url, log_dir, workload.fleet_env()) as fleet:
        fleet.start(workload.workers)
        fleet.wait_until_started()
        run = await queue_probe_run(db, actor, [model], workload.probes)
        await wait_for_run(db, run.id, within=60)
    return await run_seconds(db, run.id)


async def run_through_crash(
    postgres: OwnedPostgres,
    db: Database,
    actor: Principal,
    sim: Simulator,
    log_dir: Path,
    workload: Workload,
    *,
    name: str,
    crash_after: int,
    down_for: float,
) -> CrashedRun:
    """The workload's run, with PostgreSQL crashed once `crash_after` probes are done.

    Returns once the run has finished and every worker has logged its
    reconnection (the run may end before a worker's next attempt); raises
    TimeoutError if a worker does not come back, RuntimeError if one exited.
    """
    model = await _simulated_model(db, actor, sim, name, workload)
    with WorkerFleet(db.url, log_dir, workload.fleet_env()) as fleet:
        fleet.start(workload.workers)
        fleet.wait_until_started()
        run = await queue_probe_run(db, actor, [model], workload.probes)
        await wait_for_progress(db, run.id, crash_after)
        restart = await crash_and_restart(postgres, db, down_for)
        recovery = await recovery_seconds(db, run.id, restart)
        finished = await wait_for_run(db, run.id, within=60)
        await _every_worker_back(fleet)
        logs = [fleet.log(index) for index in range(len(fleet.processes))]
    if finished.finished_at is None:
        raise RuntimeError(f"run {run.id} ended {finished.status} without an end time")
    prompts = Counter(
        json.dumps(call.body.get("messages")) for call in sim.requests(model.model_id)
    )
    return CrashedRun(
        run=finished,
        restart=restart,
        recovery_seconds=recovery,
        finished_after_restart=(finished.finished_at - restart.accepting).total_seconds(),
        run_seconds=await run_seconds(db, run.id),
        provider_calls=sum(prompts.values()),
        most_calls_of_one_probe=max(prompts.values()),
        worker_logs=logs,
    )


async def _every_worker_back(fleet: WorkerFleet, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    for index, process in enumerate(fleet.processes):
        while RECONNECTED not in fleet.log(index):
            if process.poll() is not None:
                raise RuntimeError(f"worker {index} exited:\n{fleet.log(index)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker {index} did not reconnect:\n{fleet.log(index)}")
            await asyncio.sleep(0.05)

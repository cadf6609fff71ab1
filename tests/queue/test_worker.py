"""A worker in the test's own process: cancellation, release at shutdown, the expansion job."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from queue_support import (
    StartWorker,
    answering_provider,
    eventually,
    run_on_new_provider,
    simulator_count,
)
from sqlalchemy import func, select

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.run_tables import Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.enums import ExpansionStatus, RunStatus
from modeldesk.queue.limits import ProviderEntrypoints
from modeldesk.queue.worker import run_worker
from modeldesk.runs.cancel import cancel_run
from modeldesk.runs.definitions import create_definition, get_definition
from modeldesk.runs.expansion import request_scenario_expansion
from modeldesk.testing import Simulator
from modeldesk.testing.probe_runs import queue_probe_run, wait_for_run


async def _queue_rows(db: Database) -> list[tuple[str, object]]:
    connection = await asyncpg.connect(db.url)
    try:
        rows = await connection.fetch("SELECT status, queue_manager_id FROM pgqueuer ORDER BY id")
    finally:
        await connection.close()
    return [(row["status"], row["queue_manager_id"]) for row in rows]


async def test_a_cancelled_run_starts_no_new_calls(
    db: Database, admin: Principal, sim: Simulator, start_worker: StartWorker
) -> None:
    provider, _, run = await run_on_new_provider(
        db, admin, sim, "cancelme", probes=10, parallel=1, latency=0.3
    )
    start_worker()
    await eventually(lambda: simulator_count(sim, provider.name) >= 2, what="two calls")

    await cancel_run(db, admin, run.id)
    started = simulator_count(sim, provider.name)

    async def nothing_left_to_start() -> bool:
        return simulator_count(sim, provider.name, "current") == 0 and await _queue_rows(db) == []

    # With no job left in the queue and no call in flight, nothing can start a call.
    await eventually(nothing_left_to_start, what="the queue emptied")
    assert simulator_count(sim, provider.name) == started
    assert (await wait_for_run(db, run.id, within=5)).status == RunStatus.CANCELLED


async def test_stopping_past_the_grace_gives_jobs_back_to_the_queue(
    db: Database,
    admin: Principal,
    sim: Simulator,
    fast_settings: Settings,
    start_worker: StartWorker,
) -> None:
    provider, model, run = await run_on_new_provider(
        db, admin, sim, "slow", probes=2, parallel=2, latency=30
    )
    worker = start_worker(fast_settings.model_copy(update={"shutdown_grace_seconds": 0.2}))
    await eventually(
        lambda: simulator_count(sim, provider.name, "current") == 2, what="two calls in flight"
    )

    began = time.monotonic()
    await worker.close()
    assert time.monotonic() - began < 5  # not the 30 s the calls would take
    assert await _queue_rows(db) == [("queued", None), ("queued", None)]

    sim.configure(model.model_id, provider=provider.name, latency=0)
    start_worker()
    run = await wait_for_run(db, run.id, within=20)
    assert (run.status, run.completed, run.failed) == (RunStatus.COMPLETED, 2, 0)


async def test_the_expansion_job_runs_on_the_infrastructure_model(
    db: Database,
    admin: Principal,
    sim: Simulator,
    infra_provider: LlmProvider,
    start_worker: StartWorker,
) -> None:
    definition = await create_definition(db, admin, name="questions", template="Ask.")
    await request_scenario_expansion(db, admin, definition.id)
    start_worker()

    async def expanded() -> bool:
        return (await get_definition(db, definition.id)).expansion_status != ExpansionStatus.QUEUED

    await eventually(expanded, what="the expansion")
    assert (await get_definition(db, definition.id)).expansion_status == ExpansionStatus.SUCCEEDED
    assert simulator_count(sim, infra_provider.name) == 1


async def test_a_worker_without_its_database_keeps_trying_and_says_so_once(
    fast_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = Database("postgresql://nobody@127.0.0.1:1/none")
    context = AppContext(settings=fast_settings, db=unreachable, owns_embedded_server=False)
    stop = asyncio.Event()
    with caplog.at_level(logging.DEBUG, logger="modeldesk.queue.worker"):
        worker = asyncio.create_task(run_worker(context, shutdown=stop))
        await asyncio.sleep(1.0)  # several attempts: 0.2, 0.4, 0.8 s apart
        assert not worker.done()  # waiting to reconnect, not crashed
        stop.set()
        await asyncio.wait_for(worker, timeout=5)
    await unreachable.dispose()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and "worker cannot reach the database" in errors[0]
    assert sum("failed again" in r.getMessage() for r in caplog.records) >= 2


async def test_a_bug_at_start_up_ends_the_worker(
    database_url: str, fast_settings: Settings
) -> None:
    # The server answers, but refuses the database: a configuration to fix, not an outage.
    # The path is the database; the embedded server's URL has its socket in the query.
    url = urlsplit(database_url)._replace(path="/modeldesk_no_such_database")
    missing = Database(urlunsplit(url))
    context = AppContext(settings=fast_settings, db=missing, owns_embedded_server=False)
    try:
        with pytest.raises(asyncpg.InvalidCatalogNameError):
            await asyncio.wait_for(run_worker(context, shutdown=asyncio.Event()), timeout=10)
    finally:
        await missing.dispose()


def _messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


async def test_a_lost_listen_connection_ends_the_session_and_the_run_goes_on(
    db: Database,
    admin: Principal,
    sim: Simulator,
    start_worker: StartWorker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, _, run = await run_on_new_provider(
        db, admin, sim, "listened", probes=12, parallel=2, latency=0.2
    )
    with caplog.at_level(logging.INFO, logger="modeldesk.queue.worker"):
        start_worker()
        await eventually(
            lambda: simulator_count(sim, provider.name, "current") == 2, what="two calls"
        )
        connection = await asyncpg.connect(db.url)
        try:
            # The worker's LISTEN connection, whose notifications start its dequeues.
            terminated = await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
            )
        finally:
            await connection.close()
        assert terminated == 1
        finished = await wait_for_run(db, run.id, within=20)

    assert (finished.status, finished.completed, finished.failed) == (RunStatus.COMPLETED, 12, 0)
    async with db.session() as session:
        transcripts = await session.scalar(
            select(func.count(Transcript.probe_id.distinct())).where(Transcript.run_id == run.id)
        )
    assert transcripts == 12
    (lost,) = _messages(caplog, "worker lost the database")
    assert "the LISTEN connection closed" in lost
    (back,) = _messages(caplog, "database reachable again after")
    assert "2 jobs of the lost connection back in the queue" in back
    assert simulator_count(sim, provider.name) == 12 + 2  # the two cut-off calls, once more each


async def test_a_failed_limits_refresh_after_serving_reconnects_the_worker(
    db: Database,
    admin: Principal,
    sim: Simulator,
    start_worker: StartWorker,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, model = await answering_provider(db, admin, sim, "refreshed", parallel=2, latency=0)
    refresh = ProviderEntrypoints.refresh
    refreshes = 0

    async def fails_once_after_serving(self: ProviderEntrypoints, database: Database) -> None:
        nonlocal refreshes
        refreshes += 1
        if refreshes == 2:  # the first periodic refresh of the first session
            raise RuntimeError("a bug in reading the limits")
        await refresh(self, database)

    monkeypatch.setattr(ProviderEntrypoints, "refresh", fails_once_after_serving)
    with caplog.at_level(logging.INFO, logger="modeldesk.queue.worker"):
        worker = start_worker()
        await eventually(lambda: bool(_messages(caplog, "reconnected after")), what="reconnect")
        run = await queue_probe_run(db, admin, [model], 3)
        assert (await wait_for_run(db, run.id, within=10)).completed == 3
    assert not worker.task.done()
    failure = next(r for r in caplog.records if "queue session failed" in r.getMessage())
    assert failure.exc_info is not None and "a bug in reading" in str(failure.exc_info[1])

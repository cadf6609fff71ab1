"""What the queue relies on in pgqueuer 1.6's internals (see modeldesk/queue/manager.py).

These fail, rather than the limits silently stop holding, if a pgqueuer
upgrade moves the registry, the executor parameters or the dequeue gate.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain import models
from pgqueuer.domain.models import Job
from pgqueuer.domain.settings import db_settings
from queue_support import concurrency_limit

from modeldesk.db.job_queue import enqueue_jobs
from modeldesk.db.session import Database
from modeldesk.queue.gate_pool import open_gate_pool
from modeldesk.queue.manager import (
    FinishedJobs,
    ProviderQueueManager,
    SessionDriver,
    release_jobs_of,
)

ENTRYPOINT = "probe.internals"


async def _noop(job: Job) -> None:
    return None


def _manager(pool: asyncpg.Pool, limit: int) -> ProviderQueueManager:
    manager = ProviderQueueManager(Queries(AsyncpgPoolDriver(pool)))
    manager.add_entrypoint(ENTRYPOINT, _noop, concurrency_limit=limit)
    return manager


async def _pick(manager: ProviderQueueManager) -> list[Job]:
    """What one turn of pgqueuer's run loop would dispatch."""
    jobs = manager.fetch_jobs(
        batch_size=10, global_concurrency_limit=None, heartbeat_timeout=timedelta(seconds=30)
    )
    return [job async for job in jobs]


async def _queue(db: Database, count: int) -> None:
    async with db.transaction() as session:
        await enqueue_jobs(session, ENTRYPOINT, [{"probe_id": n} for n in range(count)])


async def test_a_changed_limit_applies_at_the_next_dequeue(
    db: Database, gate_pool: asyncpg.Pool
) -> None:
    await _queue(db, 5)
    manager = _manager(gate_pool, limit=1)
    assert len(await _pick(manager)) == 1
    assert await _pick(manager) == []

    manager.set_concurrency_limit(ENTRYPOINT, 3)
    assert concurrency_limit(manager, ENTRYPOINT) == 3
    assert len(await _pick(manager)) == 2  # three picked in all


async def test_the_limit_counts_jobs_picked_by_every_worker(
    db: Database, gate_pool: asyncpg.Pool
) -> None:
    await _queue(db, 5)
    first, second = _manager(gate_pool, limit=2), _manager(gate_pool, limit=2)
    assert first.queue_manager_id != second.queue_manager_id
    assert len(await _pick(first)) == 2
    assert await _pick(second) == []


async def test_a_paused_entrypoint_starts_nothing_until_resumed(
    db: Database, gate_pool: asyncpg.Pool
) -> None:
    await _queue(db, 2)
    manager = _manager(gate_pool, limit=5)
    manager.set_paused(ENTRYPOINT, True)
    assert await _pick(manager) == []
    manager.set_paused(ENTRYPOINT, False)
    assert len(await _pick(manager)) == 2


def test_a_negative_limit_is_refused(gate_pool: asyncpg.Pool) -> None:
    manager = _manager(gate_pool, limit=1)
    try:
        manager.set_concurrency_limit(ENTRYPOINT, -1)
    except ValueError:
        pass
    else:
        raise AssertionError("a negative limit was accepted")
    assert concurrency_limit(manager, ENTRYPOINT) == 1


async def test_a_job_finished_early_frees_its_slot_and_is_logged_once(
    db: Database, gate_pool: asyncpg.Pool
) -> None:
    await _queue(db, 2)
    manager = _manager(gate_pool, limit=1)
    (job,) = await _pick(manager)
    assert await _pick(manager) == []

    await FinishedJobs(manager.queries).finish(job)
    assert len(await _pick(manager)) == 1  # the slot is free at once
    await manager.queries.log_jobs([(job, "successful", None)])  # pgqueuer's own, later
    statuses = await gate_pool.fetch(
        "SELECT status FROM pgqueuer_log WHERE job_id = $1 ORDER BY id", job.id
    )
    assert [row["status"] for row in statuses] == ["queued", "picked", "successful"]


async def test_jobs_finishing_together_are_logged_together_each_once(
    db: Database, gate_pool: asyncpg.Pool
) -> None:
    await _queue(db, 5)
    manager = _manager(gate_pool, limit=3)
    picked = await _pick(manager)
    assert len(picked) == 3
    writes: list[int] = []
    log_jobs = manager.queries.log_jobs

    async def counted(job_status: list[tuple[Job, str, object]]) -> None:
        writes.append(len(job_status))
        await log_jobs(job_status)  # type: ignore[arg-type]

    manager.queries.log_jobs = counted  # type: ignore[method-assign]
    finished = FinishedJobs(manager.queries)
    await asyncio.gather(*(finished.finish(job) for job in picked))
    assert sum(writes) == 3 and len(writes) < 3  # the first alone, the others in one group
    assert len(await _pick(manager)) == 2  # every slot is free at once
    logged = await gate_pool.fetch(
        "SELECT job_id FROM pgqueuer_log WHERE status = 'successful' ORDER BY job_id"
    )
    assert [row["job_id"] for row in logged] == sorted(job.id for job in picked)


async def test_jobs_of_a_lost_session_go_back_to_the_queue_unless_re_picked(
    db: Database, gate_pool: asyncpg.Pool
) -> None:
    await _queue(db, 3)
    lost = _manager(gate_pool, limit=3)
    first, second, third = await _pick(lost)
    other = _manager(gate_pool, limit=3)
    # A job the other worker re-picked (its heartbeat had gone stale) is that worker's now.
    await gate_pool.execute(
        "UPDATE pgqueuer SET queue_manager_id = $1 WHERE id = $2",
        other.queue_manager_id,
        third.id,
    )

    assert await release_jobs_of(gate_pool, [lost.queue_manager_id]) == 2
    rows = await gate_pool.fetch("SELECT id, status, attempts FROM pgqueuer ORDER BY id")
    assert [(row["status"], row["attempts"]) for row in rows] == [
        ("queued", 1),
        ("queued", 1),
        ("picked", 0),
    ]
    again = await _pick(other)
    assert sorted(job.id for job in again) == [first.id, second.id]  # at once, not stale
    assert await release_jobs_of(gate_pool, []) == 0


async def test_a_lost_session_writes_nothing_more(db: Database, gate_pool: asyncpg.Pool) -> None:
    await _queue(db, 1)
    closed = await open_gate_pool(db.url, max_size=2)
    await closed.close()
    driver = SessionDriver(closed)
    manager = ProviderQueueManager(Queries(driver))
    manager.add_entrypoint(ENTRYPOINT, _noop, concurrency_limit=1)

    assert await _pick(manager) == []  # the dequeue found the pool gone
    assert driver.lost.is_set()
    assert isinstance(driver.cause, asyncpg.InterfaceError)
    await manager.queries.log_jobs([])  # and now does nothing, without raising
    assert await driver.execute("SELECT 1") == ""
    assert await gate_pool.fetchval("SELECT count(*) FROM pgqueuer WHERE status = 'queued'") == 1


async def test_a_session_driver_lets_bugs_through(gate_pool: asyncpg.Pool) -> None:
    driver = SessionDriver(gate_pool)
    with pytest.raises(asyncpg.UndefinedTableError):
        await driver.fetch("SELECT * FROM no_such_table")
    assert not driver.lost.is_set()


async def test_a_freed_slot_wakes_only_the_worker_that_freed_it(
    db: Database, gate_pool: asyncpg.Pool
) -> None:
    """Another worker's finished job is not heard; a job this worker ends wakes its loop."""
    driver = SessionDriver(gate_pool)
    heard: list[models.AnyEvent] = []
    await driver.add_listener(
        db_settings().channel,
        lambda payload: heard.append(models.AnyEvent.model_validate_json(payload)),
    )
    manager = _manager(gate_pool, limit=1)
    try:
        await _queue(db, 2)
        await _eventually_heard(heard, 1)
        (job,) = await _pick(manager)
        await FinishedJobs(manager.queries).finish(job)  # another worker's: a NOTIFY of a delete
        await _queue(db, 1)
        await _eventually_heard(heard, 2)
        FinishedJobs(Queries(driver)).ended_by_step()  # a job this worker's step ended
        assert len(heard) == 3
    finally:
        await driver.__aexit__(None, None, None)
    operations = [
        event.root.operation for event in heard if isinstance(event.root, models.TableChangedEvent)
    ]
    assert operations == ["insert", "insert", "delete"]


async def _eventually_heard(heard: list[models.AnyEvent], count: int) -> None:
    for _ in range(200):
        if len(heard) >= count:
            await asyncio.sleep(0.1)  # and nothing more arrives meanwhile
            assert len(heard) == count
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"heard {len(heard)} notifications, not {count}")

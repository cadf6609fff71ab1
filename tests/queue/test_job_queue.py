"""Enqueueing inside the caller's transaction, and discarding a cancelled run's jobs."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from modeldesk.db.job_queue import (
    decode_payload,
    discard_queued_jobs,
    encode_payload,
    enqueue_jobs,
    probe_entrypoint,
)
from modeldesk.db.session import Database

ENTRYPOINT = probe_entrypoint("acme")


async def _jobs(db: Database) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(db.url)
    try:
        return list(
            await connection.fetch(
                "SELECT entrypoint, payload, status, execute_after FROM pgqueuer ORDER BY id"
            )
        )
    finally:
        await connection.close()


async def test_jobs_appear_only_when_the_transaction_commits(db: Database) -> None:
    with contextlib.suppress(RuntimeError):
        async with db.transaction() as session:
            await enqueue_jobs(session, ENTRYPOINT, [{"probe_id": 1}])
            raise RuntimeError("the run could not be created")
    assert await _jobs(db) == []

    async with db.transaction() as session:
        await enqueue_jobs(session, ENTRYPOINT, [{"probe_id": 2}, {"probe_id": 3}])
    jobs = await _jobs(db)
    assert [decode_payload(job["payload"]) for job in jobs] == [{"probe_id": 2}, {"probe_id": 3}]
    assert {job["entrypoint"] for job in jobs} == {"probe.acme"}
    assert {job["status"] for job in jobs} == {"queued"}


async def test_workers_are_woken_at_commit_not_before(db: Database) -> None:
    listener = await asyncpg.connect(db.url)
    notified = asyncio.Event()
    await listener.add_listener("ch_pgqueuer", lambda *_: notified.set())
    try:
        async with db.transaction() as session:
            await enqueue_jobs(session, ENTRYPOINT, [{"probe_id": 1}])
            await asyncio.sleep(0.2)
            assert not notified.is_set()
        await asyncio.wait_for(notified.wait(), timeout=5)
    finally:
        await listener.close()


async def test_a_delay_defers_the_job(db: Database) -> None:
    async with db.transaction() as session:
        await enqueue_jobs(session, ENTRYPOINT, [{"probe_id": 1}], delay_seconds=30)
    (job,) = await _jobs(db)
    assert job["execute_after"] > datetime.now(UTC) + timedelta(seconds=20)


async def test_nothing_to_enqueue_or_a_negative_delay(db: Database) -> None:
    async with db.transaction() as session:
        await enqueue_jobs(session, ENTRYPOINT, [])
        with pytest.raises(ValueError, match="delay_seconds"):
            await enqueue_jobs(session, ENTRYPOINT, [{"probe_id": 1}], delay_seconds=-1)
    assert await _jobs(db) == []


async def test_discard_removes_only_waiting_jobs_with_those_payloads(db: Database) -> None:
    async with db.transaction() as session:
        await enqueue_jobs(session, ENTRYPOINT, [{"probe_id": n} for n in (1, 2, 3)])
        await enqueue_jobs(session, probe_entrypoint("other"), [{"probe_id": 1}])
    connection = await asyncpg.connect(db.url)
    try:  # probe 3's job is running: it must stay
        await connection.execute(
            "UPDATE pgqueuer SET status = 'picked' WHERE payload = $1",
            encode_payload({"probe_id": 3}),
        )
    finally:
        await connection.close()

    async with db.transaction() as session:
        assert await discard_queued_jobs(session, ENTRYPOINT, []) == 0
        discarded = await discard_queued_jobs(
            session, ENTRYPOINT, [{"probe_id": 1}, {"probe_id": 3}]
        )
    assert discarded == 1
    left = {(job["entrypoint"], job["payload"]) for job in await _jobs(db)}
    assert left == {
        ("probe.acme", encode_payload({"probe_id": 2})),
        ("probe.acme", encode_payload({"probe_id": 3})),
        ("probe.other", encode_payload({"probe_id": 1})),
    }


def test_payloads_encode_canonically_and_decode_strictly() -> None:
    assert encode_payload({"b": 1, "a": 2}) == b'{"a":2,"b":1}'
    assert decode_payload(b'{"probe_id":7}') == {"probe_id": 7}
    with pytest.raises(ValueError, match="no payload"):
        decode_payload(None)
    with pytest.raises(ValueError, match="JSON object"):
        decode_payload(b"[1]")

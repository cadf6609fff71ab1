"""Pause, resume and retry of failed probes, played step by step with the queue's part in-process.

The worker processes' side (slots, delays, several workers) is in
tests/queue/test_run_control_fleet.py.
"""

from __future__ import annotations

import asyncio

import pytest
from runs_support import Driver, make_definition, probe_ids, queued_jobs
from sqlalchemy import select

from modeldesk.auth.principal import Principal
from modeldesk.db.job_queue import probe_entrypoint
from modeldesk.db.run_tables import Probe, ProbeAttempt, Transcript
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.errors import ConflictError, ForbiddenError, NotFoundError
from modeldesk.runs import (
    attempts_by_probe_ids,
    cancel_run,
    create_run,
    get_run,
    pause_run,
    resume_run,
    retry_failed_probes,
    retryable_failure_counts,
)
from modeldesk.runs.call_gate import PAUSED_RECHECK_SECONDS
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.probe_runs import queued_probe_jobs

MINI = "openai/gpt-5-mini"
HAIKU = "anthropic/claude-haiku-4-5"
OPENAI_JOBS = probe_entrypoint("openai")


async def _run(driver: Driver, admin: Principal, models: list[str], scenarios: int = 3) -> int:
    definition = await make_definition(driver.db, admin, scenarios=scenarios)
    return (await create_run(driver.db, admin, definition.id, models)).id


async def _states(db: Database, run_id: int) -> list[str]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Probe.state).where(Probe.run_id == run_id).order_by(Probe.id)
        )
        return list(rows)


async def _transcript_statuses(db: Database, run_id: int) -> list[str]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Transcript.status).where(Transcript.run_id == run_id).order_by(Transcript.id)
        )
        return list(rows)


async def _call_in_flight(sim: Simulator, model: str, within: float = 10.0) -> None:
    """Return once the simulator is answering a call of `model`."""
    async with asyncio.timeout(within):
        while True:
            if sim.stats()["models"].get(model, {}).get("current", 0):
                return
            await asyncio.sleep(0.01)


# --- pause and resume ---


async def test_a_paused_run_starts_no_call_and_resumes_where_it_was(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    run_id = await _run(driver, admin, [MINI])
    assert await queued_jobs(db, OPENAI_JOBS) == 3

    paused = await pause_run(db, admin, run_id)
    assert paused.status == RunStatus.PAUSED
    assert await queued_jobs(db, OPENAI_JOBS) == 0  # waiting jobs hold no slot, need no dequeue
    assert (await pause_run(db, admin, run_id)).status == RunStatus.PAUSED  # again: a no-op

    # A job picked at that moment comes back later, its probe untouched and not called.
    first = (await probe_ids(db, run_id))[0]
    outcome = await driver.step(first)
    assert (outcome.kind, outcome.delay_seconds) == ("retry", PAUSED_RECHECK_SECONDS)
    assert await _states(db, run_id) == [ProbeState.PENDING] * 3
    assert sim.requests() == []

    resumed = await resume_run(db, admin, run_id)
    assert resumed.status == RunStatus.PENDING  # no call had started yet
    assert await queued_jobs(db, OPENAI_JOBS) == 3
    jobs = await queued_probe_jobs(db, OPENAI_JOBS)
    assert [priority for _, priority in jobs] == [0, -1, -2]  # in the run's order
    assert (await resume_run(db, admin, run_id)).status == RunStatus.PENDING  # again: a no-op

    await driver.run_all(run_id)
    run = await get_run(db, run_id)
    assert (run.status, run.completed) == (RunStatus.COMPLETED, 3)


async def test_a_call_in_flight_when_the_run_is_paused_finishes_and_is_recorded(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    sim.configure("gpt-5-mini", latency=0.5)
    run_id = await _run(driver, admin, [MINI])
    first, *_ = await probe_ids(db, run_id)
    in_flight = asyncio.create_task(driver.step(first))
    await _call_in_flight(sim, "gpt-5-mini")

    await pause_run(db, admin, run_id)
    assert (await in_flight).kind == "done"

    run = await get_run(db, run_id)
    assert (run.status, run.completed, run.finished_at) == (RunStatus.PAUSED, 1, None)
    assert await _transcript_statuses(db, run_id) == [TranscriptStatus.SUCCEEDED]
    await resume_run(db, admin, run_id)
    assert (await get_run(db, run_id)).status == RunStatus.RUNNING
    await driver.run_all(run_id)
    assert (await get_run(db, run_id)).status == RunStatus.COMPLETED


async def test_a_paused_run_can_be_cancelled(driver: Driver, admin: Principal) -> None:
    db = driver.db
    run_id = await _run(driver, admin, [MINI])
    await pause_run(db, admin, run_id)
    run = await cancel_run(db, admin, run_id)
    assert (run.status, run.cancelled) == (RunStatus.CANCELLED, 3)
    with pytest.raises(ConflictError, match="already finished"):
        await resume_run(db, admin, run_id)
    with pytest.raises(ConflictError, match="already finished"):
        await pause_run(db, admin, run_id)


async def test_run_control_is_for_admins_and_known_runs(
    driver: Driver, admin: Principal, viewer: Principal
) -> None:
    run_id = await _run(driver, admin, [MINI])
    for action in (pause_run, resume_run, retry_failed_probes):
        with pytest.raises(ForbiddenError):
            await action(driver.db, viewer, run_id)
        with pytest.raises(NotFoundError):
            await action(driver.db, admin, 999_999)
    assert (await get_run(driver.db, run_id)).status == RunStatus.PENDING


# --- retrying failed probes ---


async def test_retry_queues_the_retryable_failures_again_and_keeps_every_attempt(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    sim.configure("gpt-5-mini", then=Outcome.error(503))  # a provider down
    sim.configure("claude-haiku-4-5", then=Outcome.error(400))  # a request it refuses
    run_id = await _run(driver, admin, [MINI, HAIKU], scenarios=2)
    with pytest.raises(ConflictError, match="still pending"):
        await retry_failed_probes(db, admin, run_id)

    await driver.run_all(run_id)
    failed = await get_run(db, run_id)
    assert (failed.status, failed.failed) == (RunStatus.FAILED, 4)
    assert await retryable_failure_counts(db, [run_id]) == {run_id: 2}

    sim.configure("gpt-5-mini")  # the provider recovers
    retried = await retry_failed_probes(db, admin, run_id)
    assert (retried.status, retried.failed, retried.finished_at) == (RunStatus.RUNNING, 2, None)
    assert await _transcript_statuses(db, run_id) == [
        TranscriptStatus.FAILED,
        TranscriptStatus.FAILED,
    ]  # the 400s stay
    # Here the first jobs were never consumed (the driver plays the queue): a probe
    # that still has its job keeps it rather than getting a second one.
    assert await queued_jobs(db, OPENAI_JOBS) == 2

    await driver.run_all(run_id)
    run = await get_run(db, run_id)
    assert (run.status, run.completed, run.failed) == (RunStatus.COMPLETED, 2, 2)
    assert await retryable_failure_counts(db, [run_id]) == {run_id: 0}

    async with db.session() as session:
        probes = list(await session.scalars(select(Probe).where(Probe.run_id == run_id)))
    attempts = await attempts_by_probe_ids(db, [probe.id for probe in probes])
    for probe in probes:
        codes = [attempt.error_code for attempt in attempts[probe.id]]
        if probe.model_id == 1:  # gpt-5-mini: three transient retries, then the failure
            assert (probe.state, codes) == (ProbeState.SUCCEEDED, ["PROVIDER_ERROR"] * 4)
        else:
            assert (probe.state, codes) == (ProbeState.FAILED, ["VALIDATION_ERROR"])
        assert all(attempt.started_at is not None for attempt in attempts[probe.id])


async def test_nothing_retryable_leaves_the_run_as_it_was(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    sim.configure("claude-haiku-4-5", then=Outcome.error(401))
    run_id = await _run(driver, admin, [HAIKU], scenarios=1)
    await driver.run_all(run_id)
    run = await retry_failed_probes(driver.db, admin, run_id)
    assert (run.status, run.failed) == (RunStatus.FAILED, 1)


async def test_retry_after_a_cancel_finishes_the_run_cancelled_again(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    sim.configure("gpt-5-mini", outcomes=["429"] * 5)  # more than the rate-limit schedule
    run_id = await _run(driver, admin, [MINI])
    first, *_ = await probe_ids(db, run_id)
    await driver.until_done(first)
    await cancel_run(db, admin, run_id)
    assert await _states(db, run_id) == [
        ProbeState.FAILED,
        ProbeState.CANCELLED,
        ProbeState.CANCELLED,
    ]

    run = await retry_failed_probes(db, admin, run_id)
    assert (run.status, run.failed, run.cancelled) == (RunStatus.RUNNING, 0, 2)
    await driver.until_done(first)
    run = await get_run(db, run_id)
    assert (run.status, run.completed, run.cancelled) == (RunStatus.CANCELLED, 1, 2)
    assert run.finished_at is not None
    async with db.session() as session:
        codes = await session.scalars(select(ProbeAttempt.error_code).order_by(ProbeAttempt.id))
        assert list(codes) == ["RATE_LIMITED"] * 5

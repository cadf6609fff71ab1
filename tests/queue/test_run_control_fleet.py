"""Run control with real `modeldesk worker` processes: the budget cap, pause and resume, retry.

The simulator (in this process) is the provider; it counts every call, so
"no call started" is counted, not assumed.
"""

from __future__ import annotations

from decimal import Decimal

from queue_support import (
    eventually,
    run_on_workers,
    simulator_count,
)
from sqlalchemy import func, select, text

from modeldesk.auth.principal import Principal
from modeldesk.db.job_queue import probe_entrypoint
from modeldesk.db.run_tables import ProbeAttempt, Transcript
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus, TranscriptStatus
from modeldesk.runs import create_run, get_run, pause_run, resume_run, retry_failed_probes
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.crash_runs import tally_transcripts
from modeldesk.testing.probe_runs import question_definition, wait_for_run
from modeldesk.testing.worker_fleet import WorkerFleet

# Each call of the capped run's model uses these tokens...
CALL_TOKENS = {"input_tokens": 1000, "output_tokens": 500}
# ...at $1.00 / $2.00 per million, the price of every simulated model (`add_simulated_provider`).
CALL_COST = (
    Decimal(CALL_TOKENS["input_tokens"]) * 1 + Decimal(CALL_TOKENS["output_tokens"]) * 2
) / 10**6


async def _settled(db: Database, run_id: int) -> bool:
    run = await get_run(db, run_id)
    return run.completed + run.failed + run.skipped == run.total


async def test_the_cap_holds_across_three_workers(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    # The first run, of two probes, is what later calls expect to use.
    provider, model, history = await run_on_workers(
        db, admin, sim, fleet, "capped", workers=3, probes=2, parallel=6, latency=0.2, **CALL_TOKENS
    )
    await wait_for_run(db, history.id, within=30)

    definition = await question_definition(db, admin, 40)
    capped = await create_run(db, admin, definition.id, [str(model.id)], max_cost=CALL_COST * 10)
    await wait_for_run(db, capped.id, within=60)  # stopped: no new call starts from here
    # Calls in flight at the stop are still recorded, the probes left skipped.
    await eventually(lambda: _settled(db, capped.id), what="the stopped run's last records")
    run = await get_run(db, capped.id)

    # Six slots over three processes, yet exactly the ten calls the cap allows.
    assert (run.status, run.completed, run.skipped, run.failed) == (
        RunStatus.BUDGET_EXCEEDED,
        10,
        30,
        0,
    )
    assert (run.spent_cost, run.reserved_cost) == (CALL_COST * 10, Decimal(0))
    assert simulator_count(sim, provider.name) == 2 + 10
    assert (await tally_transcripts(db, run.id)).transcripts == 40


async def test_a_paused_run_starts_no_call_until_resumed(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    provider, _, run = await run_on_workers(  # 6 s of calls: time to pause
        db, admin, sim, fleet, "pausable", workers=2, probes=40, parallel=2, latency=0.3
    )
    await eventually(lambda: simulator_count(sim, provider.name) >= 3, what="the first calls")

    await pause_run(db, admin, run.id)
    await eventually(
        lambda: simulator_count(sim, provider.name, "current") == 0, what="in-flight calls"
    )
    started = simulator_count(sim, provider.name)
    # Calls in flight when the run paused were recorded, and nothing else started:
    # proving an absence takes a window, here five limit refreshes (0.3 s each).
    await eventually(lambda: _recorded(db, run.id, started), what="the in-flight transcripts")
    # Pausing takes the run's jobs off the queue; a job picked as the pause committed
    # waits the paused run's recheck. Once no job may start now, nothing can start a call.
    await eventually(
        lambda: _no_startable_jobs(db, probe_entrypoint(provider.name)), what="no job left"
    )
    assert simulator_count(sim, provider.name) == started < 40
    paused = await get_run(db, run.id)
    assert (paused.status, paused.completed) == (RunStatus.PAUSED, started)

    await resume_run(db, admin, run.id)
    await eventually(
        lambda: simulator_count(sim, provider.name) > started, within=10, what="a new call"
    )
    done = await wait_for_run(db, run.id, within=60)
    assert (done.status, done.completed) == (RunStatus.COMPLETED, 40)
    assert simulator_count(sim, provider.name) == 40
    assert simulator_count(sim, provider.name, "max_concurrent") <= 2


async def _no_startable_jobs(db: Database, entrypoint: str) -> bool:
    """No job of the entrypoint is running or due now (a delayed recheck may wait)."""
    async with db.session() as session:
        statement = text(
            "SELECT count(*) FROM pgqueuer WHERE entrypoint = :entrypoint"
            " AND (status = 'picked' OR execute_after <= now())"
        )
        return bool(await session.scalar(statement, {"entrypoint": entrypoint}) == 0)


async def _recorded(db: Database, run_id: int, count: int) -> bool:
    return (await tally_transcripts(db, run_id)).transcripts == count


async def test_failed_probes_run_again_once_the_provider_recovers(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    # Rate limited for good: each probe climbs the fleet's short schedule (0.5, 0.5) and fails.
    provider, model, run = await run_on_workers(
        db, admin, sim, fleet, "flaky", workers=2, probes=6, parallel=3, then=Outcome.rate_limit()
    )
    failed = await wait_for_run(db, run.id, within=60)
    assert (failed.status, failed.failed) == (RunStatus.FAILED, 6)

    sim.configure(model.model_id, provider=provider.name)  # the provider recovers
    retried = await retry_failed_probes(db, admin, run.id)
    assert retried.status == RunStatus.RUNNING
    done = await wait_for_run(db, run.id, within=60)
    assert (done.status, done.completed, done.failed) == (RunStatus.COMPLETED, 6, 0)
    async with db.session() as session:
        statuses = list(
            await session.scalars(select(Transcript.status).where(Transcript.run_id == run.id))
        )
        attempts = (
            await session.execute(
                select(ProbeAttempt.error_code, func.count()).group_by(ProbeAttempt.error_code)
            )
        ).all()
    assert statuses == [TranscriptStatus.SUCCEEDED] * 6
    # Every earlier failure is kept: three rate-limited calls per probe.
    assert attempts == [("RATE_LIMITED", 18)]
    assert simulator_count(sim, provider.name) == 18 + 6

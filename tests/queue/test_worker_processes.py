"""Limits that must hold across worker processes, shown with real `modeldesk worker`s.

The simulator (in this process) is every provider: it counts concurrent calls
per provider and records when each one started. Refresh, heartbeat and backoff
are shortened through the environment (`FAST_SETTINGS`), so each test takes
seconds.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess

from queue_support import (
    answering_provider,
    eventually,
    run_on_workers,
    simulator_count,
)
from sqlalchemy import func, select, text

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ModelCreate, ProviderUpdate, create_model, update_provider
from modeldesk.db.run_tables import Probe, Run
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.enums import ProbeState, RunStatus
from modeldesk.testing import Simulator
from modeldesk.testing.crash_runs import tally_transcripts
from modeldesk.testing.probe_runs import queue_probe_run, wait_for_run
from modeldesk.testing.worker_fleet import WorkerFleet

IN_FLIGHT_PROVIDER = "inflight"
# The simulator and PostgreSQL read the same machine clock, at slightly different moments.
_CLOCK_TOLERANCE = 0.02


async def test_the_parallel_limit_holds_across_three_workers(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    provider, _, run = await run_on_workers(
        db, admin, sim, fleet, "shared", workers=3, probes=24, parallel=2, latency=0.25
    )
    run = await wait_for_run(db, run.id, within=60)

    assert (run.status, run.completed, run.failed) == (RunStatus.COMPLETED, 24, 0)
    assert simulator_count(sim, provider.name, "max_concurrent") == 2
    assert simulator_count(sim, provider.name, "requests") == 24
    assert (await tally_transcripts(db, run.id)).transcripts == 24


async def test_limit_changes_apply_to_running_workers(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    provider, _, run = await run_on_workers(
        db, admin, sim, fleet, "live", workers=2, probes=60, parallel=1, latency=0.2
    )
    await eventually(lambda: simulator_count(sim, provider.name, "requests") >= 3, what="calls")
    assert simulator_count(sim, provider.name, "max_concurrent") == 1

    await update_provider(db, admin, provider.id, ProviderUpdate.parse(max_parallel_requests=3))
    # The running workers take the new limit at their next refresh, with no restart.
    await eventually(
        lambda: simulator_count(sim, provider.name, "current") == 3,
        within=10,
        what="3 parallel calls",
    )

    await update_provider(db, admin, provider.id, ProviderUpdate.parse(is_enabled=False))
    await eventually(lambda: simulator_count(sim, provider.name, "current") == 0, what="a pause")
    paused_at = simulator_count(sim, provider.name, "requests")
    await asyncio.sleep(1.0)
    assert simulator_count(sim, provider.name, "requests") == paused_at  # queued probes wait

    await update_provider(db, admin, provider.id, ProviderUpdate.parse(is_enabled=True))
    await eventually(
        lambda: simulator_count(sim, provider.name, "requests") > paused_at,
        within=5,
        what="resuming",
    )

    _, new_model = await answering_provider(db, admin, sim, "newcomer", latency=0)
    new_run = await queue_probe_run(db, admin, [new_model], 3)
    assert (await wait_for_run(db, new_run.id, within=10)).status == RunStatus.COMPLETED

    run = await wait_for_run(db, run.id, within=30)
    assert run.completed == 60
    assert simulator_count(sim, provider.name, "max_concurrent") == 3


async def test_requests_per_minute_hold_across_workers(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    provider, _, run = await run_on_workers(  # its model answers at once
        db, admin, sim, fleet, "metered", workers=2, probes=10, parallel=3, requests_per_minute=4
    )

    await eventually(lambda: simulator_count(sim, provider.name, "requests") >= 4, what="4 calls")
    await asyncio.sleep(2.0)  # every other probe is picked and re-queued meanwhile
    starts = sim.stats()["providers"][provider.name]["starts"]
    assert len(starts) == 4  # the first minute's budget, and not one call more
    async with db.session() as session:
        waiting = await session.scalar(
            select(func.count()).where(Probe.run_id == run.id, Probe.state == ProbeState.PENDING)
        )
    assert waiting == 6


async def _active_hold_end(db: Database, provider_id: int) -> float | None:
    """When the provider's current hold ends (epoch seconds, like the simulator's starts)."""
    async with db.session() as session:
        held_until = await session.scalar(
            text(
                "SELECT held_until FROM provider_holds"
                " WHERE provider_id = :id AND held_until > clock_timestamp()"
            ),
            {"id": provider_id},
        )
    return None if held_until is None else float(held_until.timestamp())


async def test_a_rate_limit_holds_the_provider_then_ends_in_rate_limited(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    provider, limited = await answering_provider(
        db, admin, sim, "busy", parallel=2, outcomes=["429"] * 3
    )
    other = await create_model(
        db,
        admin,
        ModelCreate.parse(
            provider_id=provider.id,
            model_id="busy-other",
            display_name="busy other",
            cost_input_per_million="1",
            cost_output_per_million="1",
        ),
    )
    sim.configure(other.model_id, provider=provider.name, latency=0)
    fleet.start(1)
    fleet.wait_until_started()

    limited_run = await queue_probe_run(db, admin, [limited], 1)
    hold_ends: list[float] = []

    async def held() -> bool:
        end = await _active_hold_end(db, provider.id)
        hold_ends.extend([] if end is None else [end])
        return end is not None

    await eventually(held, what="the hold after the 429")
    other_run = await queue_probe_run(db, admin, [other], 3)
    limited_run = await wait_for_run(db, limited_run.id, within=20)
    other_run = await wait_for_run(db, other_run.id, within=20)

    assert (limited_run.status, limited_run.failed) == (RunStatus.FAILED, 1)
    async with db.session() as session:
        probe = await session.scalar(select(Probe).where(Probe.run_id == limited_run.id))
    assert probe is not None
    assert (probe.error_code, probe.retryable, probe.rate_limit_retries) == (
        "RATE_LIMITED",
        True,
        2,
    )
    assert other_run.completed == 3

    stats = sim.stats()["models"]
    limited_starts = stats[limited.model_id]["starts"]
    assert len(limited_starts) == 3  # the call and the 2 retries of "0.5,0.5"
    # The provider allows 2 parallel calls and the worker had a free slot, so
    # only the hold kept the other run's calls from starting before it ended.
    other_starts = stats[other.model_id]["starts"]
    assert len(other_starts) == 3
    assert min(other_starts) >= hold_ends[0] - _CLOCK_TOLERANCE


async def _one_worker_with_two_calls_in_flight(
    db: Database,
    admin: Principal,
    sim: Simulator,
    fleet: WorkerFleet,
    *,
    latency: float,
    probes: int,
) -> tuple[LlmModel, Run, subprocess.Popen[bytes]]:
    provider, model = await answering_provider(
        db, admin, sim, IN_FLIGHT_PROVIDER, parallel=2, latency=latency
    )
    (worker,) = fleet.start(1)
    run = await queue_probe_run(db, admin, [model], probes)
    await eventually(lambda: simulator_count(sim, provider.name, "current") == 2, what="two calls")
    return model, run, worker


async def test_a_killed_workers_jobs_run_again_without_duplicates(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    model, run, doomed = await _one_worker_with_two_calls_in_flight(
        db, admin, sim, fleet, latency=30, probes=2
    )
    fleet.kill(doomed)  # SIGKILL: no cleanup, no release, heartbeats just stop
    sim.configure(model.model_id, provider=IN_FLIGHT_PROVIDER, latency=0)
    fleet.start(1)
    run = await wait_for_run(db, run.id, within=30)

    assert (run.status, run.completed, run.failed) == (RunStatus.COMPLETED, 2, 0)
    assert (await tally_transcripts(db, run.id)).transcripts == 2
    # Each probe: the killed call and its re-run.
    assert simulator_count(sim, IN_FLIGHT_PROVIDER, "requests") == 4
    async with db.session() as session:
        attempts = list(await session.scalars(select(Probe.attempts).where(Probe.run_id == run.id)))
    assert attempts == [2, 2]


async def test_sigterm_finishes_in_flight_jobs_and_exits_zero(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    _, run, worker = await _one_worker_with_two_calls_in_flight(
        db, admin, sim, fleet, latency=1.0, probes=3
    )
    assert fleet.stop(worker) == 0
    async with db.session() as session:
        states = list(
            await session.scalars(
                select(Probe.state).where(Probe.run_id == run.id).order_by(Probe.state)
            )
        )
    # The third never started.
    assert states == [ProbeState.PENDING, ProbeState.SUCCEEDED, ProbeState.SUCCEEDED]
    assert simulator_count(sim, IN_FLIGHT_PROVIDER, "requests") == 2
    assert "finishing in-flight jobs" in fleet.log(0)


async def test_a_second_sigterm_gives_in_flight_jobs_back_at_once(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    _, run, worker = await _one_worker_with_two_calls_in_flight(
        db, admin, sim, fleet, latency=30, probes=2
    )
    worker.send_signal(signal.SIGTERM)
    await eventually(lambda: "finishing in-flight jobs" in fleet.log(0), what="the first signal")
    assert fleet.stop(worker, timeout=10) == 0  # the second SIGTERM; the calls had 29 s to go

    async with db.session() as session:
        states = list(await session.scalars(select(Probe.state).where(Probe.run_id == run.id)))
    assert len(states) == 2 and ProbeState.SUCCEEDED not in states
    assert "gave 2 in-flight jobs back to the queue" in fleet.log(0)

"""Fair share: runs queued on one provider take its slots in turn (SPEC 9.2)."""

from __future__ import annotations

import time

from queue_support import eventually, run_on_workers

from modeldesk.auth.principal import Principal
from modeldesk.db.job_queue import probe_entrypoint
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus
from modeldesk.runs import get_run
from modeldesk.testing import Simulator
from modeldesk.testing.probe_runs import (
    add_simulated_provider,
    queue_probe_run,
    queued_probe_jobs,
    wait_for_run,
)
from modeldesk.testing.worker_fleet import WorkerFleet


async def _done(db: Database, run_id: int) -> int:
    run = await get_run(db, run_id)
    return run.completed + run.failed


async def test_a_later_run_takes_turns_from_its_first_job(
    db: Database, admin: Principal, sim: Simulator
) -> None:
    provider, model = await add_simulated_provider(db, admin, sim.url, "turns")
    big = await queue_probe_run(db, admin, [model], 5)
    small = await queue_probe_run(db, admin, [model], 2)
    order = [probe for probe, _ in await queued_probe_jobs(db, probe_entrypoint(provider.name))]
    big_ids = [1, 2, 3, 4, 5]
    small_ids = [6, 7]
    assert (big.id, small.id) == (1, 2)
    assert order == [big_ids[0], small_ids[0], big_ids[1], small_ids[1], *big_ids[2:]]


async def test_a_small_run_does_not_wait_for_a_big_one(
    db: Database, admin: Principal, sim: Simulator, fleet: WorkerFleet
) -> None:
    """The issue's case: 4 probes queued after 120 on one 2-slot provider."""
    provider, model, big = await run_on_workers(
        db, admin, sim, fleet, "fair", workers=2, probes=120, parallel=2, latency=0.1
    )
    await eventually(lambda: _at_least(db, big.id, 10), what="the big run under way")

    big_before = await _done(db, big.id)
    began = time.monotonic()
    small = await queue_probe_run(db, admin, [model], 4)
    small_run = await wait_for_run(db, small.id, within=30)
    took = time.monotonic() - began
    big_meanwhile = await _done(db, big.id) - big_before

    assert small_run.status == RunStatus.COMPLETED
    # Round robin: about as many of the big run's probes as the small run's own.
    assert big_meanwhile < 120 / 4, (big_meanwhile, took)
    print(f"\nsmall run done in {took:.2f} s (ideal 0.20 s); big run +{big_meanwhile} meanwhile")
    await wait_for_run(db, big.id, within=60)
    assert sim.stats()["providers"][provider.name]["max_concurrent"] == 2


async def _at_least(db: Database, run_id: int, count: int) -> bool:
    return await _done(db, run_id) >= count

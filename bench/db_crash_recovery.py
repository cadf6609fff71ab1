"""How long workers take to come back from a PostgreSQL crash, and what it costs a run.

Each round makes a PostgreSQL cluster of its own (`OwnedPostgres`), with the
binaries pgserver bundles (the embedded server's) or the system's, runs 60
probes x 200 ms on a provider with 4 slots over 2 `modeldesk worker`
processes once undisturbed, then again with `pg_ctl stop -m immediate` once
12 probes are done and a start 5 s later. Printed per round:

- recovery: from PostgreSQL accepting connections again to the next probe
  completing (read from the transcript's `created_at`);
- the run's time without a crash, with one, and with one minus the outage;
- the run's end after the restart, and the provider calls made (60 + the
  calls the crash cut off, each made once more).

    .venv/bin/python bench/db_crash_recovery.py [--binaries bundled|system|all] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import Role
from modeldesk.testing import Simulator
from modeldesk.testing.crash_runs import (
    Workload,
    create_owned_database,
    run_through_crash,
    run_without_crash,
)
from modeldesk.testing.owned_postgres import OwnedPostgres, PostgresBinaries, available_binaries

ADMIN = Principal(name="bench", role=Role.ADMIN)
WORKLOAD = Workload(probes=60, parallel=4, latency=0.2, workers=2, heartbeat_seconds=10)
CRASH_AFTER = 12
DOWN_FOR = 5.0


async def _round(binaries: PostgresBinaries, sim: Simulator, number: int) -> dict[str, float]:
    logs = Path(tempfile.mkdtemp(prefix="modeldesk-crash-bench-"))
    for part in ("calm", "crash"):
        (logs / part).mkdir()
    with OwnedPostgres(binaries) as postgres:
        postgres.start()
        db = Database(await create_owned_database(postgres), pool_size=2)
        try:
            calm = await run_without_crash(
                db, ADMIN, sim, logs / "calm", WORKLOAD, name=f"calm{number}"
            )
            crashed = await run_through_crash(
                postgres,
                db,
                ADMIN,
                sim,
                logs / "crash",
                WORKLOAD,
                name=f"crash{number}",
                crash_after=CRASH_AFTER,
                down_for=DOWN_FOR,
            )
        finally:
            await db.dispose()
    if crashed.run.completed != WORKLOAD.probes:
        raise RuntimeError(f"the crashed run completed {crashed.run.completed} probes; see {logs}")
    outage = crashed.restart.outage_seconds
    return {
        "recovery": crashed.recovery_seconds,
        "calm": calm,
        "crashed": crashed.run_seconds,
        "outage": outage,
        "crashed_minus_outage": crashed.run_seconds - outage,
        "end_after_restart": crashed.finished_after_restart,
        "calls": crashed.provider_calls,
    }


def _print_round(kind: str, number: int, figures: dict[str, float]) -> None:
    print(
        f"{kind:8} round {number}: recovery {figures['recovery']:.2f} s | run "
        f"{figures['calm']:.2f} s without a crash, {figures['crashed']:.2f} s with one "
        f"({figures['outage']:.1f} s down; {figures['crashed_minus_outage']:.2f} s without "
        f"the outage) | run ended {figures['end_after_restart']:.2f} s after the restart | "
        f"{figures['calls']:.0f} provider calls for {WORKLOAD.probes} probes"
    )


async def main(kinds: list[PostgresBinaries], rounds: int) -> None:
    print(
        f"{WORKLOAD.probes} probes x {WORKLOAD.latency * 1000:.0f} ms, {WORKLOAD.parallel} slots, "
        f"{WORKLOAD.workers} workers; crash after {CRASH_AFTER}, down {DOWN_FOR:.0f} s"
    )
    with Simulator() as sim:
        for binaries in kinds:
            recoveries = []
            for number in range(1, rounds + 1):
                sim.reset()
                figures = await _round(binaries, sim, number)
                _print_round(binaries.kind, number, figures)
                recoveries.append(figures["recovery"])
            print(
                f"{binaries.kind:8} recovery: median {statistics.median(recoveries):.2f} s, "
                f"worst {max(recoveries):.2f} s over {rounds} rounds"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binaries", choices=("bundled", "system", "all"), default="all")
    parser.add_argument("--rounds", type=int, default=1)
    arguments = parser.parse_args()
    found = [b for b in available_binaries() if arguments.binaries in ("all", b.kind)]
    if not found:
        raise SystemExit(f"no PostgreSQL binaries of the kind {arguments.binaries!r} here")
    asyncio.run(main(found, arguments.rounds))

"""Drain speed across a 100,000-probe run (SPEC 9.7: it must not decay).

Release 1 fell from 293 to 86 probes/s over 94k jobs, until a manual VACUUM:
pgqueuer's log grew without end and its queue table filled with dead rows.
Here three `modeldesk worker` processes drain one run of 20,000 scenarios on
five simulated providers that answer at once (50 slots each), with the
product's own settings (log retention, table storage settings, whatever
autovacuum the server has). The run's progress is sampled every few seconds;
the rate of each tenth of the run is printed, and the last tenth against the
first (target: no decay, a ratio near 1).

    .venv/bin/python bench/drain.py [--scenarios 20000]

Uses MODELDESK_BENCH_DATABASE_URL (a server's maintenance database) when set,
else an embedded server in a temporary directory; either way in a database of
its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

import asyncpg  # type: ignore[import-untyped]
from _fleet_setup import bench_database, simulated_fleet

from modeldesk.auth import Principal
from modeldesk.db.session import Database
from modeldesk.enums import Role
from modeldesk.runs import get_run, run_progress
from modeldesk.testing.probe_runs import add_simulated_provider, question_definition, run_on

WORKERS = 3
PROVIDERS = 5
ADMIN = Principal(name="bench", role=Role.ADMIN)
SAMPLE_SECONDS = 2.0
# A drain slower than this is stuck (a dead worker, a held provider): give up, do not hang.
SLOWEST_PROBES_PER_SECOND = 10.0


async def _progress(db: Database, run_id: int) -> tuple[int, int]:
    progress = run_progress(await get_run(db, run_id))
    return progress.done, progress.total


async def _queue_state(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        log_rows = await connection.fetchval("SELECT count(*) FROM pgqueuer_log")
        dead = await connection.fetchval(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'pgqueuer'"
        )
        autovacuum = await connection.fetchval("SHOW autovacuum")
    finally:
        await connection.close()
    return f"pgqueuer_log rows {log_rows:,}, queue dead rows {dead:,}, autovacuum {autovacuum}"


async def drain(scenarios: int) -> None:
    async with bench_database() as (url, db):
        with simulated_fleet(url) as (sim, fleet):
            models = []
            for index in range(PROVIDERS):
                provider, model = await add_simulated_provider(
                    db, ADMIN, sim.url, f"drain-{index}", parallel=50
                )
                sim.configure(model.model_id, provider=provider.name, latency=0.0)
                models.append(model)
            definition = await question_definition(db, ADMIN, scenarios)
            fleet.start(WORKERS)
            fleet.wait_until_started()
            run = await run_on(db, ADMIN, definition, models)
            samples = await _sample_until_done(db, run.id)
            print(await _queue_state(url))
    _report(samples)


async def _sample_until_done(db: Database, run_id: int) -> list[tuple[float, int, int]]:
    began = time.monotonic()
    samples = [(0.0, 0, 1)]
    while True:
        await asyncio.sleep(SAMPLE_SECONDS)
        done, total = await _progress(db, run_id)
        elapsed = time.monotonic() - began
        samples.append((elapsed, done, total))
        if done >= total:
            return samples
        if elapsed > SAMPLE_SECONDS + total / SLOWEST_PROBES_PER_SECOND:
            raise TimeoutError(f"run {run_id} still at {done}/{total} after {elapsed:.0f} s")


def _time_reaching(samples: list[tuple[float, int, int]], count: float) -> float:
    """When the run had `count` probes done, interpolated between samples."""
    for (before_at, before, _), (after_at, after, _) in itertools.pairwise(samples):
        if after >= count:
            share = (count - before) / (after - before) if after > before else 1.0
            return before_at + share * (after_at - before_at)
    return samples[-1][0]


def _report(samples: list[tuple[float, int, int]]) -> None:
    total = samples[-1][2]
    elapsed = samples[-1][0]
    print(f"{total:,} probes, {WORKERS} workers, {PROVIDERS} instant providers")
    print(f"  drained in {elapsed:.0f} s: {total / elapsed:.0f} probes/s overall")
    crossed = [_time_reaching(samples, total * tenth / 10) for tenth in range(11)]
    rates = [total / 10 / (end - start) for start, end in itertools.pairwise(crossed)]
    print("  probes/s per tenth of the run: " + ", ".join(f"{rate:.0f}" for rate in rates))
    if rates:
        print(f"  last tenth / first tenth: {rates[-1] / rates[0]:.2f} (target: no decay, ~1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=20_000, help="x 5 providers = probes")
    args = parser.parse_args()
    asyncio.run(drain(args.scenarios))


if __name__ == "__main__":
    main()

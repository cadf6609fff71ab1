"""How well the probe queue schedules against the provider simulator, with real workers.

Three `modeldesk worker` processes share one database; the simulator (in this
process) records every call's start and the highest concurrency per provider.
Printed figures:

- makespan / ideal for 100 jobs x 200 ms on one provider with 5 slots (target <= 1.10);
- fair share: a 4-probe run queued after a 120-probe run on one 2-slot provider
  (200 ms calls): when it completes against the ideal of an even share (one
  slot: 4 x 200 ms), and how far the big run moved meanwhile (it must not wait
  for the big run: that would take 11 s);
- the highest concurrency the simulator saw per provider (must equal the limit);
- a limit raised mid-run (2 -> 6): how long until the workers used it;
- the worst 60 s window under a requests-per-minute limit (takes about a minute);
- throughput with an instant provider, beside raw pgqueuer no-op throughput
  measured in the same run with the same number of processes (targets: >= 500
  jobs/s and >= 20 % of raw);
- per-probe overhead (SPEC 9.7): 2,000 probes x 200 ms on 20 slots (makespan /
  ideal, target <= 1.10) and once 10,000, each with how long a slot is held
  beyond the call's own latency (p50, p95; target <= 10 ms).

    .venv/bin/python bench/scheduler.py [--quick] [--rounds 3] [--only makespan,fair-share]
    # --quick: no 60 s RPM window, and no 10,000-probe overhead run;
    # --only: just the named sections, e.g. --only overhead

Uses MODELDESK_BENCH_DATABASE_URL (a server's maintenance database) when set,
else an embedded server in a temporary directory; either way in a database of
its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import timedelta

import asyncpg  # type: ignore[import-untyped]
from _fleet_setup import bench_database, simulated_fleet

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ProviderUpdate, update_provider
from modeldesk.db.session import Database
from modeldesk.enums import Role
from modeldesk.runs import get_run
from modeldesk.testing import Simulator
from modeldesk.testing.probe_runs import (
    add_simulated_provider,
    question_definition,
    queue_probe_run,
    run_on,
    wait_for_run,
)
from modeldesk.testing.worker_fleet import FAST_SETTINGS

WORKERS = 3
ADMIN = Principal(name="bench", role=Role.ADMIN)
RAW_ENTRYPOINT = "bench.noop"
# Throughput rounds get providers of their own, however often the figure is taken.
_THROUGHPUT_ROUNDS = itertools.count()


def worst_window(starts: Sequence[float], width: float = 60.0) -> int:
    """The most call starts inside any window of `width` seconds."""
    ordered = sorted(starts)
    worst, first = 0, 0
    for last, started in enumerate(ordered):
        while started - ordered[first] >= width:
            first += 1
        worst = max(worst, last - first + 1)
    return worst


async def makespan(db: Database, sim: Simulator, rounds: int) -> None:
    ideal = 100 * 0.2 / 5
    ratios, peaks = [], []
    for round_ in range(rounds):
        name = f"makespan-{round_}"
        provider, model = await add_simulated_provider(db, ADMIN, sim.url, name, parallel=5)
        sim.configure(model.model_id, provider=provider.name, latency=0.2)
        definition = await question_definition(db, ADMIN, 100)
        await asyncio.sleep(1.0)  # let every worker register the new provider
        began = time.monotonic()
        run = await run_on(db, ADMIN, definition, [model])
        await wait_for_run(db, run.id, within=120)
        ratios.append((time.monotonic() - began) / ideal)
        peaks.append(sim.stats()["providers"][provider.name]["max_concurrent"])
    shown = ", ".join(f"{ratio:.3f}" for ratio in ratios)
    print(f"makespan: 100 x 200 ms on 5 slots, ideal {ideal:.1f} s; {rounds} rounds")
    print(f"  makespan / ideal: median {statistics.median(ratios):.3f} ({shown}; target <= 1.10)")
    print(f"  highest concurrency seen per round: {peaks} (limit 5)")


async def _settled(db: Database, run_id: int) -> int:
    run = await get_run(db, run_id)
    return run.completed + run.failed


async def _settled_at_least(db: Database, run_id: int, count: int) -> int:
    """Return the run's probes done, once they are at least `count`."""
    while True:
        done = await _settled(db, run_id)
        if done >= count:
            return done
        await asyncio.sleep(0.02)


async def fair_share(db: Database, sim: Simulator, rounds: int) -> None:
    ideal = 4 * 0.2  # an even share of two slots: one slot, four calls of 200 ms
    ratios, moved = [], []
    for round_ in range(rounds):
        provider, model = await add_simulated_provider(
            db, ADMIN, sim.url, f"fair-{round_}", parallel=2
        )
        sim.configure(model.model_id, provider=provider.name, latency=0.2)
        small_definition = await question_definition(db, ADMIN, 4)
        await asyncio.sleep(1.0)  # let every worker register the new provider
        big = await queue_probe_run(db, ADMIN, [model], 120)
        big_before = await _settled_at_least(db, big.id, 10)  # the big run well under way
        began = time.monotonic()
        small = await run_on(db, ADMIN, small_definition, [model])
        await wait_for_run(db, small.id, within=60)
        ratios.append((time.monotonic() - began) / ideal)
        moved.append(await _settled(db, big.id) - big_before)
        await wait_for_run(db, big.id, within=120)
    shown = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"fair share: 4 probes queued after 120 on 2 slots, 200 ms calls; {rounds} rounds")
    median = statistics.median(ratios)
    print(f"  small run done / ideal {ideal:.1f} s: median {median:.2f} ({shown})")
    print(f"  big run's probes done meanwhile: {moved} (a quarter of it is 30)")


async def live_limit_change(db: Database, sim: Simulator) -> None:
    provider, model = await add_simulated_provider(db, ADMIN, sim.url, "livelimit", parallel=2)
    sim.configure(model.model_id, provider=provider.name, latency=0.2)
    run = await queue_probe_run(db, ADMIN, [model], 120)
    peak_before = 0
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        peak_before = max(
            peak_before, sim.stats()["providers"].get(provider.name, {}).get("current", 0)
        )
        await asyncio.sleep(0.01)
    await update_provider(db, ADMIN, provider.id, ProviderUpdate.parse(max_parallel_requests=6))
    changed = time.monotonic()
    took: float | None = None
    while took is None and time.monotonic() - changed < 30:
        if sim.stats()["providers"][provider.name]["current"] > 2:
            took = time.monotonic() - changed
        await asyncio.sleep(0.01)
    await wait_for_run(db, run.id, within=120)
    seen = sim.stats()["providers"][provider.name]["max_concurrent"]
    print(f"live limit change 2 -> 6: highest concurrency before the change {peak_before}")
    shown = f"{took:.2f} s" if took is not None else "not within 30 s"
    print(f"  more than 2 calls at once {shown} after the change was committed")
    print(f"  highest concurrency over the run: {seen} (limit 6)")


async def rpm_window(db: Database, sim: Simulator) -> None:
    provider, model = await add_simulated_provider(
        db, ADMIN, sim.url, "rpm", parallel=5, requests_per_minute=10
    )
    sim.configure(model.model_id, provider=provider.name, latency=0.0)
    run = await queue_probe_run(db, ADMIN, [model], 15)
    await wait_for_run(db, run.id, within=180)
    starts = sim.stats()["providers"][provider.name]["starts"]
    span = max(starts) - min(starts)
    print(f"requests per minute 10, 15 calls over {span:.1f} s:")
    print(f"  worst 60 s window: {worst_window(starts)} starts (limit 10)")


async def throughput(db: Database, sim: Simulator, rounds: int) -> list[float]:
    """Probes per second with instant answers: 2 providers x 300 scenarios per round.

    Each provider allows 50 calls at once, so the figure is the fleet's own
    capacity; with 10 slots each, Little's law caps it at 20 / (time per probe).
    """
    rates = []
    for _ in range(rounds):
        round_ = next(_THROUGHPUT_ROUNDS)
        models = []
        for side in ("a", "b"):
            name = f"instant-{side}{round_}"
            provider, model = await add_simulated_provider(db, ADMIN, sim.url, name, parallel=50)
            sim.configure(model.model_id, provider=provider.name, latency=0.0)
            models.append(model)
        definition = await question_definition(db, ADMIN, 300)
        await asyncio.sleep(1.0)
        began = time.monotonic()
        run = await run_on(db, ADMIN, definition, models)
        await wait_for_run(db, run.id, within=300)
        rates.append(run.total / (time.monotonic() - began))
    return rates


# Per job, in ms: its slot held beyond the call, and the parts `overhead` prints.
_HELD_SQL = """
SELECT extract(epoch FROM r.finished_at) AS finished, t.duration_ms,
       extract(epoch FROM held.done - held.picked) * 1000 - t.duration_ms AS beyond,
       extract(epoch FROM p.call_started_at - held.picked) * 1000 AS to_claim,
       extract(epoch FROM t.created_at - p.call_started_at) * 1000 - t.duration_ms AS around,
       extract(epoch FROM held.done - t.created_at) * 1000 AS to_end
FROM unnest($1::bigint[], $2::bigint[]) AS j(job_id, probe_id)
JOIN probes p ON p.id = j.probe_id
JOIN transcripts t ON t.probe_id = j.probe_id
JOIN runs r ON r.id = t.run_id
JOIN LATERAL (
    SELECT min(created) FILTER (WHERE status = 'picked') AS picked,
           max(created) FILTER (WHERE status = 'successful') AS done
    FROM pgqueuer_log WHERE job_id = j.job_id
) held ON true
"""
_PARTS = ("beyond", "to_claim", "around", "to_end")


async def _overhead_round(
    db: Database, sim: Simulator, url: str, name: str, probes: int
) -> tuple[float, float, dict[str, list[float]]]:
    """One run of `probes` x 200 ms on 20 slots: makespan / ideal, the run's slot time
    per probe beyond the calls (ms, idle slots included), and per job `_HELD_SQL`.

    A slot is held from the job's pick to its end (pgqueuer's log rows 'picked',
    'successful'); claim and record are timed by their `now()`, all on
    PostgreSQL's clock; the call by the worker (`transcripts.duration_ms`).
    """
    provider, model = await add_simulated_provider(db, ADMIN, sim.url, name, parallel=20)
    sim.configure(model.model_id, provider=provider.name, latency=0.2)
    definition = await question_definition(db, ADMIN, probes)
    await asyncio.sleep(1.0)  # let every worker register the new provider
    run = await run_on(db, ADMIN, definition, [model])
    began = time.time()  # the jobs are committed: from here on it is the queue's time
    connection = await asyncpg.connect(url)
    try:
        jobs = await connection.fetch(
            "SELECT id, convert_from(payload, 'UTF8')::json->>'probe_id' AS probe_id"
            " FROM pgqueuer WHERE entrypoint = $1",
            f"probe.{provider.name}",
        )
        await wait_for_run(db, run.id, within=probes * 0.2)
        rows = await connection.fetch(
            _HELD_SQL, [job["id"] for job in jobs], [int(job["probe_id"]) for job in jobs]
        )
    finally:
        await connection.close()
    span, latency = float(rows[0]["finished"]) - began, sum(row["duration_ms"] for row in rows)
    parts = {part: [float(row[part]) for row in rows if row[part] is not None] for part in _PARTS}
    return span / (probes * 0.2 / 20), (20 * span * 1000 - latency) / len(rows), parts


async def overhead(db: Database, sim: Simulator, url: str, rounds: int, quick: bool) -> None:
    sizes = [2_000] * rounds + ([] if quick else [10_000])
    results: dict[int, list[tuple[float, float, dict[str, list[float]]]]] = {}
    for round_, probes in enumerate(sizes):
        outcome = await _overhead_round(db, sim, url, f"overhead-{round_}", probes)
        results.setdefault(probes, []).append(outcome)
    for probes, outcomes in results.items():
        ratios = [ratio for ratio, _, _ in outcomes]
        held = {part: [ms for _, _, parts in outcomes for ms in parts[part]] for part in _PARTS}
        shown = ", ".join(f"{ratio:.3f}" for ratio in ratios)
        print(f"overhead: {probes:,} probes x 200 ms on 20 slots, {len(outcomes)} rounds")
        print(
            f"  makespan / ideal: median {statistics.median(ratios):.3f} ({shown}; target <= 1.10)"
        )
        p50, p95 = statistics.median(held["beyond"]), statistics.quantiles(held["beyond"], n=20)[18]
        print(f"  slot held beyond the call: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target <= 10)")
        print(
            "  of which (p50 each) pick -> claim {:.1f} ms, claim -> record beyond the call "
            "{:.1f} ms, record -> job's end {:.1f} ms".format(
                *(statistics.median(held[part]) for part in _PARTS[1:])
            )
        )
        idle = statistics.median(per_probe for _, per_probe, _ in outcomes)
        print(f"  slot time per probe beyond the call, idle slots included: median {idle:.1f} ms")


async def raw_noop_throughput(url: str, jobs: int, rounds: int) -> list[float]:
    """pgqueuer alone: the same number of processes dequeuing no-op jobs."""
    from pgqueuer.adapters.persistence.queries import Queries

    consumers = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--raw-consumer", url, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(WORKERS)
    ]
    connection = await asyncpg.connect(url)
    try:
        for consumer in consumers:
            assert consumer.stdout is not None
            await consumer.stdout.readline()  # "ready"
        queries = Queries.from_asyncpg_connection(connection)
        rates = []
        for _ in range(rounds):
            began = time.monotonic()
            await queries.enqueue([RAW_ENTRYPOINT] * jobs, [None] * jobs, [0] * jobs)
            await _drained(connection)
            rates.append(jobs / (time.monotonic() - began))
        return rates
    finally:
        await connection.close()
        for consumer in consumers:
            consumer.send_signal(signal.SIGTERM)
        for consumer in consumers:
            await consumer.wait()


async def _drained(connection: asyncpg.Connection) -> None:
    """Return once the queue table is empty."""
    while True:
        if not await connection.fetchval("SELECT count(*) FROM pgqueuer"):
            return
        await asyncio.sleep(0.01)


async def raw_consumer(url: str) -> None:
    from pgqueuer.adapters.persistence.queries import Queries
    from pgqueuer.core.qm import QueueManager
    from pgqueuer.domain.models import Job

    connection = await asyncpg.connect(url)
    manager = QueueManager(Queries.from_asyncpg_connection(connection))

    @manager.entrypoint(RAW_ENTRYPOINT)
    async def noop(job: Job) -> None:
        return None

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, manager.shutdown.set)
    print("ready", flush=True)
    await manager.run(dequeue_timeout=timedelta(seconds=1), batch_size=10)
    await connection.close()


SECTIONS = ("makespan", "fair-share", "limit", "rpm", "overhead", "throughput")


async def main(quick: bool, rounds: int, only: Sequence[str]) -> None:
    async with bench_database() as (url, db):
        with simulated_fleet(url) as (sim, fleet):
            fleet.start(WORKERS)
            fleet.wait_until_started()
            refresh = FAST_SETTINGS["MODELDESK_LIMITS_REFRESH_SECONDS"]
            print(f"{WORKERS} worker processes, limits refreshed every {refresh} s")
            if "makespan" in only:
                await makespan(db, sim, rounds)
            if "fair-share" in only:
                await fair_share(db, sim, rounds)
            if "limit" in only:
                await live_limit_change(db, sim)
            if "rpm" in only and not quick:
                await rpm_window(db, sim)
            if "overhead" in only:
                await overhead(db, sim, url, rounds, quick)
            if "throughput" not in only:
                return
            ours = await throughput(db, sim, rounds)
        raw = await raw_noop_throughput(url, 20_000, rounds)
    ours_median, raw_median = statistics.median(ours), statistics.median(raw)
    print(f"throughput with an instant provider, {WORKERS} workers, {rounds} rounds of 600:")
    print(f"  ours: median {ours_median:.0f} probes/s ({_rates(ours)}; target >= 500)")
    print(f"  raw pgqueuer no-op, same processes: median {raw_median:.0f} jobs/s ({_rates(raw)})")
    print(f"  ours / raw = {ours_median / raw_median:.1%} (target >= 20 %)")


def _rates(rates: Sequence[float]) -> str:
    return ", ".join(f"{rate:.0f}" for rate in rates)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="skip the RPM window and the 10,000-probe run"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the repeated figures")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--raw-consumer", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_consumer:
        asyncio.run(raw_consumer(args.raw_consumer))
    else:
        asyncio.run(main(args.quick, args.rounds, args.only.split(",")))

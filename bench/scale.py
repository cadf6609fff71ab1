"""Pages at scale (SPEC 9.7): /runs, /runs/<id> and costBreakdown with 300,000 transcripts.

Works in a database of its own, dropped at the end: on the server of
MODELDESK_BENCH_DATABASE_URL (a maintenance database URL) when set, else on an
embedded server. Runs are created by the real service (batched inserts) and
filled directly with one transcript per probe (`testing.transcript_fill`):
three runs of 100,000 probes (20,000 scenarios x 5 models) and 27 small ones,
30 runs in all; one more 100,000-probe run is created and cancelled, timed
against SPEC's "cancelled in < 2 s". The running totals follow through their triggers. The app is
served by uvicorn in this process, as `serve` does, and each page is read
`--reads` times after a warm-up; p50 and p95 are printed beside the targets.

    .venv/bin/python bench/scale.py [--reads 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import asyncpg  # type: ignore[import-untyped]
import httpx
from catalog_latency import percentiles
from ui_load import session_id

from modeldesk.app import create_app
from modeldesk.auth import Principal, create_token
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.seed import seed_catalog
from modeldesk.db.session import Database
from modeldesk.runs import cancel_run, create_run
from modeldesk.testing.live_server import LiveServer
from modeldesk.testing.scratch_database import scratch_database
from modeldesk.testing.transcript_fill import FIVE_MODELS, definition_of_size, fill_run
from modeldesk.web.session import SESSION_COOKIE

LARGE_RUNS = 3  # x 100,000 probes
SMALL_RUNS = 27  # x 5 probes
TARGET_MS = 100.0
CANCEL_TARGET_S = 2.0
BREAKDOWN = """query($id: ID!) { run(id: $id) { costBreakdown { totalCost
  perModel { model { modelId } cost probeCount } } transcriptCount } }"""


async def build(db: Database) -> tuple[int, int, float]:
    """The runs and their transcripts; returns (a large run's id, transcripts in all,
    seconds a 100k-probe run took to cancel)."""
    await seed_catalog(db)
    actor = Principal.system("bench")
    large = await definition_of_size(db, actor, [100, 20, 10])  # 20,000
    cancelled = await create_run(db, actor, large, list(FIVE_MODELS))
    started = time.perf_counter()
    await cancel_run(db, actor, cancelled.id)
    cancelled_in = time.perf_counter() - started
    small = await definition_of_size(db, actor, [1])
    large_runs = []
    for n in range(LARGE_RUNS):
        started = time.perf_counter()
        run = await create_run(db, actor, large, list(FIVE_MODELS))
        created = time.perf_counter() - started
        await fill_run(db, run.id)
        print(f"large run {n + 1}: {run.total} probes created in {created:.2f} s, filled")
        large_runs.append(run.id)
    for _ in range(SMALL_RUNS):
        await fill_run(db, (await create_run(db, actor, small, list(FIVE_MODELS))).id)
    connection = await asyncpg.connect(db.url)
    try:
        await connection.execute("ANALYZE")
        transcripts = await connection.fetchval("SELECT count(*) FROM transcripts")
    finally:
        await connection.close()
    return large_runs[0], int(transcripts), cancelled_in


async def timed(read: httpx.AsyncClient, path: str, reads: int, **post: object) -> list[float]:
    samples = []
    for _ in range(reads + 3):  # three warm-up reads: connections, plans
        started = time.perf_counter()
        response = await (read.post(path, json=post) if post else read.get(path))
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:500]
        assert "errors" not in response.text[:20], response.text[:500]
    return samples[3:]


def line(label: str, samples: list[float], target: float | None) -> str:
    p50, p95, _ = percentiles(samples)
    figures = f"{label:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
    if target is None:
        return figures
    return f"{figures}   target p50 <= {target:.0f} ms: {'met' if p50 <= target else 'MISSED'}"


async def run(reads: int) -> None:
    async with scratch_database(os.environ.get("MODELDESK_BENCH_DATABASE_URL")) as url:
        db = Database(url)
        context = AppContext(settings=Settings(database_url=url), db=db, owns_embedded_server=False)
        try:
            large_run, transcripts, cancelled_in = await build(db)
            _, token = await create_token(db, role="viewer", name="bench")
            async with LiveServer(create_app(context)) as server:
                session = await session_id(server.url, token)
                async with (
                    httpx.AsyncClient(
                        base_url=server.url, cookies={SESSION_COOKIE: session}, timeout=60
                    ) as web,
                    httpx.AsyncClient(
                        base_url=server.url,
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=60,
                    ) as api,
                ):
                    runs_page = await timed(web, "/runs", reads)
                    run_page = await timed(web, f"/runs/{large_run}", reads)
                    breakdown = await timed(
                        api, "/graphql", reads, query=BREAKDOWN, variables={"id": str(large_run)}
                    )
        finally:
            await context.close()
    print(f"\n{transcripts:,} transcripts in {LARGE_RUNS + SMALL_RUNS} runs, {reads} reads each")
    print(line("GET /runs", runs_page, TARGET_MS))
    print(line("GET /runs/<100k-probe run>", run_page, TARGET_MS))
    print(line("costBreakdown (GraphQL)", breakdown, None))
    print(f"(mean of all reads: {statistics.fmean(runs_page + run_page):.1f} ms)")
    verdict = "met" if cancelled_in < CANCEL_TARGET_S else "MISSED"
    print(
        f"cancel of a 100,000-probe run: {cancelled_in:.2f} s"
        f"   target < {CANCEL_TARGET_S:.0f} s: {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.reads))


if __name__ == "__main__":
    main()

"""A `/metrics` scrape, and what scrapes do to the API (SPEC 9.4: a scrape must not slow it).

Works in a database of its own, dropped at the end: on the server of
MODELDESK_BENCH_DATABASE_URL (a maintenance database URL) when set, else on an
embedded server in a temporary directory. It builds a fleet's worth of state:
50 providers, 100,000 transcripts over 100 runs, and 10,000 queued probe jobs,
and serves the app with uvicorn on a free loopback port in this process, as
`serve` does. Then, with a viewer token:
- the scrape time (`GET /metrics`, fleet gauges read from PostgreSQL);
- the catalogue read (`llmProviders` with nested models, as bench/catalog_latency.py
  times it), read after read for `--seconds` each: alone, while another client
  scrapes every second (15 times Prometheus's usual rate), and while it scrapes
  back to back (a stress far beyond any real scraper).

    .venv/bin/python bench/metrics_scrape.py [--scrapes 100] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg  # type: ignore[import-untyped]
import httpx
from catalog_latency import QUERY, MinimalHttpClient, percentiles

from modeldesk import catalog
from modeldesk.app import create_app
from modeldesk.auth import Principal, create_token
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.seed import seed_catalog
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.runs.definitions import create_definition
from modeldesk.testing.live_server import LiveServer
from modeldesk.testing.scratch_database import scratch_database

PROVIDERS = 50
RUNS = 100
SCENARIOS = 1000  # RUNS x SCENARIOS transcripts
QUEUED_JOBS = 10_000
NO_SCRAPES = "alone"
# Seconds between scrapes during each series of catalogue reads: none at all
# (None), once a second (15 times Prometheus's usual rate), back to back (0).
SCRAPE_RATES: dict[str, float | None] = {
    NO_SCRAPES: None,
    "scraped every second": 1.0,
    "scraped back to back": 0.0,
}

# Each run probes every scenario on one model, so (run, scenario, model) stays unique.
# $1 the definition, $2 runs of $3 scenarios each; $4, $5, $6 the run, probe and transcript
# states: finished, every probe answered.
_FILL = """
WITH models AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total
    FROM llm_models
), new_runs AS (
    INSERT INTO runs (definition_id, status, total, completed, created_by)
    SELECT $1, $4, $3, $3, 'bench' FROM generate_series(1, $2)
    RETURNING id
), targets AS (
    SELECT r.id AS run_id, m.id AS model_id
    FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM new_runs) r
    JOIN models m ON m.n = r.n % m.total
), run_models AS (
    INSERT INTO run_models (run_id, model_id, position) SELECT run_id, model_id, 0 FROM targets
), probes AS (
    INSERT INTO probes (run_id, scenario_id, model_id, state, attempts)
    SELECT t.run_id, s.id, t.model_id, $5, 1
    FROM targets t CROSS JOIN scenarios s WHERE s.definition_id = $1
    RETURNING id, run_id, scenario_id, model_id
)
INSERT INTO transcripts (run_id, scenario_id, model_id, probe_id, status, response,
                         input_tokens, output_tokens, estimated_cost, duration_ms, created_at)
SELECT run_id, scenario_id, model_id, id, $6, 'bench answer', 1200, 300,
       0.0012 + (id % 7) * 0.0001, 800, now() - (id % 30) * interval '1 day'
FROM probes
"""
_QUEUE = """
INSERT INTO pgqueuer (priority, status, entrypoint, payload)
SELECT 0, 'queued', 'probe.' || p.name, ('{"probe_id":' || n || '}')::bytea
FROM generate_series(1, $1) n
JOIN (SELECT name, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS c
      FROM llm_providers) p ON p.k = n % p.c
"""


async def build_fleet_state(db: Database) -> tuple[int, int]:
    """50 providers, 100k transcripts, 10k queued jobs; returns (providers, transcripts)."""
    await seed_catalog(db)
    actor = Principal.system("bench")
    for n in range(len(await catalog.list_providers(db)), PROVIDERS):
        provider = await catalog.create_provider(
            db,
            actor,
            catalog.ProviderCreate.parse(
                name=f"bench-{n}",
                display_name=f"Bench {n}",
                api_style="OPENAI",
                base_url="http://127.0.0.1:9",
                max_parallel_requests=4,
                requests_per_minute=600,
            ),
        )
        await catalog.create_model(
            db,
            actor,
            catalog.ModelCreate.parse(
                provider_id=provider.id,
                model_id=f"bench-model-{n}",
                display_name=f"Bench model {n}",
                cost_input_per_million="1.00",
                cost_output_per_million="2.00",
                set_as_default=True,
            ),
        )
    definition = await create_definition(
        db,
        actor,
        name="bench",
        template="Question {{a}}-{{b}}?",
        dimensions=[
            {"name": "a", "levels": [str(n) for n in range(SCENARIOS // 25)]},
            {"name": "b", "levels": [str(n) for n in range(25)]},
        ],
    )
    connection = await asyncpg.connect(db.url)
    try:
        await connection.execute(
            _FILL,
            definition.id,
            RUNS,
            SCENARIOS,
            RunStatus.COMPLETED.value,
            ProbeState.SUCCEEDED.value,
            TranscriptStatus.SUCCEEDED.value,
        )
        await connection.execute(_QUEUE, QUEUED_JOBS)
        await connection.execute("ANALYZE")
        providers = await connection.fetchval("SELECT count(*) FROM llm_providers")
        transcripts = await connection.fetchval("SELECT count(*) FROM transcripts")
    finally:
        await connection.close()
    return int(providers), int(transcripts)


async def catalogue_reads(
    client: MinimalHttpClient, headers: dict[str, str], seconds: float
) -> list[float]:
    """Milliseconds of each catalogue read, one after another for `seconds`."""
    body = json.dumps({"query": QUERY}).encode()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        answer = json.loads(await client.post("/graphql", body, headers))
        samples.append((time.perf_counter() - started) * 1000)
        assert "errors" not in answer, answer
    return samples


async def scrape_every(
    scrape: Callable[[], Awaitable[float]], interval: float, stop: asyncio.Event
) -> int:
    """Scrape every `interval` seconds (0: back to back) until `stop`; returns how many."""
    count = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        if stop.is_set():
            break
        await scrape()
        count += 1
    return count


async def run(scrapes: int, seconds: float) -> None:
    async with scratch_database(os.environ.get("MODELDESK_BENCH_DATABASE_URL")) as url:
        db = Database(url)
        context = AppContext(settings=Settings(database_url=url), db=db, owns_embedded_server=False)
        try:
            providers, transcripts = await build_fleet_state(db)
            _, token = await create_token(db, role="viewer", name="bench")
            headers = {"Authorization": f"Bearer {token}"}
            async with (
                LiveServer(create_app(context)) as server,
                httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as scraper,
            ):

                async def scrape() -> float:
                    started = time.perf_counter()
                    response = await scraper.get("/metrics")
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.text
                    assert "modeldesk_cost_usd_total" in response.text
                    return elapsed

                for _ in range(5):
                    await scrape()  # warm-up: connections, plans
                scrape_ms = [await scrape() for _ in range(scrapes)]

                reader = await MinimalHttpClient.connect(server.url)
                await catalogue_reads(reader, headers, 1.0)  # warm-up
                series: dict[str, tuple[list[float], int]] = {}
                for label, interval in SCRAPE_RATES.items():
                    stop = asyncio.Event()
                    scraping = (
                        None
                        if interval is None
                        else asyncio.create_task(scrape_every(scrape, interval, stop))
                    )
                    samples = await catalogue_reads(reader, headers, seconds)
                    stop.set()
                    series[label] = (samples, 0 if scraping is None else await scraping)
                reader.close()
        finally:
            await db.dispose()

    print(f"state: {providers} providers, {transcripts:,} transcripts, {QUEUED_JOBS:,} queued jobs")
    p50, p95, p99 = percentiles(scrape_ms)
    print(
        f"scrape GET /metrics ({scrapes}x)  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  p99 {p99:6.2f} ms"
    )
    baseline = statistics.median(series[NO_SCRAPES][0])
    for label, (samples, count) in series.items():
        p50, p95, p99 = percentiles(samples)
        print(
            f"catalogue read, {label:28} p50 {p50:6.3f} ms  p95 {p95:6.3f} ms  p99 {p99:6.3f} ms"
            f"  ({len(samples)} reads, {count} scrapes, p50 {p50 / baseline:.2f}x alone)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scrapes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each read series")
    args = parser.parse_args()
    asyncio.run(run(args.scrapes, args.seconds))


if __name__ == "__main__":
    main()

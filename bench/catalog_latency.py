"""Catalogue read latency over HTTP (SPEC 7: p50 <= 3 ms and <= 3x a raw fetch).

Works in a database of its own, dropped at the end: on the server of
MODELDESK_BENCH_DATABASE_URL (a maintenance database URL) when set, else on an
embedded server in a temporary directory. Seeds 54 models and serves the app
with uvicorn on a free loopback port in this process. Then it times, with an
admin token:
- `llmProviders { ... models { ... } }` with the response cache (the default);
- the same query with the cache off (every request executed by Strawberry);
- a raw asyncpg fetch of the same rows on one connection, the floor.
Two HTTP clients are used: a minimal keep-alive HTTP/1.1 client, whose own cost
is near zero so the figure is the server's, and httpx, whose own cost (about
0.5 ms a request here) is what a Python caller adds. Rounds are interleaved so
that noise on this shared machine hits every subject alike.

    .venv/bin/python bench/catalog_latency.py [--requests 500] [--warmup 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
import httpx
from fastapi import FastAPI

from modeldesk import catalog
from modeldesk.api import mount_api
from modeldesk.app import create_app
from modeldesk.auth import Principal, create_token
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.seed import seed_catalog
from modeldesk.db.session import Database
from modeldesk.testing.live_server import LiveServer
from modeldesk.testing.scratch_database import scratch_database

TARGET_MODELS = 54
RAW = "raw asyncpg fetch"
QUERY = """{ llmProviders { id name displayName maxParallelRequests requestsPerMinute isEnabled
  models { id modelId displayName costInputPerMillion costOutputPerMillion status isDefault
  isAvailable } } }"""
RAW_SQL = """
SELECT p.id, p.name, p.display_name, p.max_parallel_requests, p.requests_per_minute,
       p.is_enabled, p.api_key_env, m.id AS model_pk, m.model_id, m.display_name AS model_name,
       m.cost_input_per_million, m.cost_output_per_million, m.status, m.is_default
FROM llm_providers p LEFT JOIN llm_models m ON m.provider_id = p.id
ORDER BY p.id, m.id
"""


async def seed_models(db: Database) -> int:
    await seed_catalog(db)
    providers = await catalog.list_providers(db)
    actor = Principal.system("bench")
    count = len(await catalog.list_models(db))
    for n in range(count, TARGET_MODELS):
        provider = providers[n % len(providers)]
        data = catalog.ModelCreate.parse(
            provider_id=provider.id,
            model_id=f"bench-model-{n}",
            display_name=f"Bench model {n}",
            cost_input_per_million="1.25",
            cost_output_per_million="10.00",
        )
        await catalog.create_model(db, actor, data)
    return len(await catalog.list_models(db))


class MinimalHttpClient:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the whole response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, base_url: str) -> MinimalHttpClient:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\n{head}\r\n".encode()
            + body
        )
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        status = response_head.split(b" ", 2)[1]
        assert status == b"200", response_head
        for line in response_head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                return await self.reader.readexactly(int(value))
        raise RuntimeError("response without content-length")

    def close(self) -> None:
        self.writer.close()


async def timed(
    subjects: dict[str, Callable[[], Awaitable[None]]], requests: int, warmup: int, rounds: int
) -> dict[str, list[float]]:
    """Milliseconds per call of each subject, rounds interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for call in subjects.values():
        for _ in range(warmup):
            await call()
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for name, call in subjects.items():
            for _ in range(per_round):
                started = time.perf_counter()
                await call()
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return statistics.median(samples_ms), cuts[94], cuts[98]


async def run(requests: int, warmup: int, rounds: int) -> None:
    async with scratch_database(os.environ.get("MODELDESK_BENCH_DATABASE_URL")) as url:
        db = Database(url)
        context = AppContext(settings=Settings(database_url=url), db=db, owns_embedded_server=False)
        models = await seed_models(db)
        _, token = await create_token(db, role="admin", name="bench")
        cached_app = create_app(context)
        uncached_app = FastAPI()
        mount_api(uncached_app, context, response_cache=False)
        raw = await asyncpg.connect(db.url)
        headers = {"Authorization": f"Bearer {token}"}
        body = json.dumps({"query": QUERY}).encode()
        try:
            async with (
                LiveServer(cached_app) as cached_server,
                LiveServer(uncached_app) as uncached_server,
                httpx.AsyncClient(headers=headers) as client,
            ):
                cached_url, uncached_url = cached_server.url, uncached_server.url
                lean_cached = await MinimalHttpClient.connect(cached_url)
                lean_uncached = await MinimalHttpClient.connect(uncached_url)

                def check(data: bytes) -> None:
                    answer = json.loads(data)
                    assert "errors" not in answer, answer
                    providers = answer["data"]["llmProviders"]
                    assert sum(len(p["models"]) for p in providers) == models

                def lean(connection: MinimalHttpClient) -> Callable[[], Awaitable[None]]:
                    async def call() -> None:
                        check(await connection.post("/graphql", body, headers))

                    return call

                def with_httpx(base: str) -> Callable[[], Awaitable[None]]:
                    async def call() -> None:
                        check((await client.post(base + "/graphql", content=body)).content)

                    return call

                async def raw_fetch() -> None:
                    rows = await raw.fetch(RAW_SQL)
                    assert len(rows) == models

                subjects = {
                    "cached, minimal client": lean(lean_cached),
                    "uncached, minimal client": lean(lean_uncached),
                    "cached, httpx": with_httpx(cached_url),
                    "uncached, httpx": with_httpx(uncached_url),
                    RAW: raw_fetch,
                }
                samples = await timed(subjects, requests, warmup, rounds)
                lean_cached.close()
                lean_uncached.close()
        finally:
            await raw.close()
            await db.dispose()

    print(f"catalogue: {models} models; {len(samples[RAW])} timed requests per subject")
    medians = {}
    for name, values in samples.items():
        p50, p95, p99 = percentiles(values)
        medians[name] = p50
        print(f"{name:26} p50 {p50:6.3f} ms  p95 {p95:6.3f} ms  p99 {p99:6.3f} ms")
    for name, p50 in medians.items():
        if name != RAW:
            print(f"ratio of p50s, {name} / raw fetch: {p50 / medians[RAW]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.warmup, args.rounds))


if __name__ == "__main__":
    main()

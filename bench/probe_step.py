"""What the probe step costs on top of the provider call, and how fast a cost breakdown is.

Against the provider simulator with an instant model, on an embedded PostgreSQL:
- call alone: `modeldesk.llm.complete` to the simulator, the floor any step pays;
- probe step: `execute_probe` (claim, call, transcript + progress), one at a time
  and with 16 in flight over one connection pool, as a worker's slots would run;
- cost breakdown: the one GROUPING SETS query over a run of 5 000 transcripts.

Figures are medians over rounds; the machine is shared, so compare ratios.

    .venv/bin/python bench/probe_step.py [--probes 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select, text, update

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.embedded import embedded_database_url, stop_embedded_servers
from modeldesk.db.migrate import upgrade_database
from modeldesk.db.run_tables import Probe
from modeldesk.db.seed import seed_catalog
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.enums import TranscriptStatus
from modeldesk.llm import CompletionRequest, complete, make_target
from modeldesk.runs import cost_breakdown, create_definition, create_run, execute_probe
from modeldesk.testing import Simulator

ADMIN = Principal.system("bench")
CONCURRENCY = 16
BREAKDOWN_TRANSCRIPTS = 5000


async def new_run(db: Database, probes: int) -> list[int]:
    definition = await create_definition(
        db, ADMIN, name="bench", template="t", scenarios=[f"Say {i}." for i in range(probes)]
    )
    run = await create_run(db, ADMIN, definition.id, ["openai/gpt-5-mini"])
    async with db.session() as session:
        return list(await session.scalars(select(Probe.id).where(Probe.run_id == run.id)))


async def calls_alone(client: httpx.AsyncClient, url: str, count: int) -> float:
    target = make_target(
        provider_name="openai", api_style="OPENAI", model_id="gpt-5-mini", base_url=url
    )
    request = CompletionRequest.from_prompt("Say 1.")
    started = time.perf_counter()
    for _ in range(count):
        await complete(client, target, request)
    return count / (time.perf_counter() - started)


async def steps(db: Database, client: httpx.AsyncClient, probes: int, parallel: int) -> float:
    ids = await new_run(db, probes)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for probe_id in ids:
        queue.put_nowait(probe_id)
    settings = Settings()

    async def slot() -> None:
        while not queue.empty():
            await execute_probe(db, settings, client, queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(slot() for _ in range(parallel)))
    return probes / (time.perf_counter() - started)


async def breakdown_ms(db: Database, rounds: int) -> float:
    """A run of 5 000 recorded transcripts, written in bulk, then the breakdown timed."""
    definition = await create_definition(
        db, ADMIN, name="big", template="t", scenarios=[f"s{i}" for i in range(1000)]
    )
    run = await create_run(
        db, ADMIN, definition.id, ["openai/gpt-5-mini", "openai/gpt-5.1", "xai/grok-4-0709",
                                   "anthropic/claude-haiku-4-5", "deepseek/deepseek-chat"]
    )  # fmt: skip
    async with db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO transcripts (run_id, scenario_id, model_id, probe_id, status,"
                " input_tokens, output_tokens, estimated_cost)"
                " SELECT run_id, scenario_id, model_id, id, :status, 1000, 200, 0.00065"
                " FROM probes WHERE run_id = :run"
            ),
            {"run": run.id, "status": TranscriptStatus.SUCCEEDED.value},
        )
    assert (await cost_breakdown(db, run.id)).total.probe_count == BREAKDOWN_TRANSCRIPTS
    timings = []
    for _ in range(rounds * 4):
        started = time.perf_counter()
        await cost_breakdown(db, run.id)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def main(probes: int, rounds: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="modeldesk-bench-"))
    for variable in ("OPENAI_API_KEY", "XAI_API_KEY", "ANTHROPIC_API_KEY", "DEEPSEEK_API_KEY"):
        os.environ[variable] = "bench-key"
    try:
        url = embedded_database_url(data_dir)
        await upgrade_database(url)
        db = Database(url, pool_size=CONCURRENCY + 2)
        await seed_catalog(db)
        async with Simulator() as sim:
            async with db.transaction() as session:
                await session.execute(update(LlmProvider).values(base_url=sim.url))
            async with httpx.AsyncClient() as client:
                await steps(db, client, 20, 1)  # warm-up
                alone, one, many = [], [], []
                for _ in range(rounds):
                    alone.append(await calls_alone(client, sim.url, probes))
                    one.append(await steps(db, client, probes, 1))
                    many.append(await steps(db, client, probes, CONCURRENCY))
            breakdown = await breakdown_ms(db, rounds)
        await db.dispose()
    finally:
        stop_embedded_servers()
        shutil.rmtree(data_dir, ignore_errors=True)
    call_rate, step_rate, parallel_rate = (statistics.median(x) for x in (alone, one, many))
    print(f"probes per round: {probes}, rounds: {rounds} (medians)")
    print(f"call alone (simulator, sequential):  {call_rate:8.0f} calls/s")
    print(f"probe step, 1 at a time:             {step_rate:8.0f} probes/s")
    print(f"probe step, {CONCURRENCY} in flight:            {parallel_rate:8.0f} probes/s")
    overhead = 1000 / step_rate - 1000 / call_rate
    print(f"step overhead per probe (sequential): {overhead:7.2f} ms")
    print(f"cost breakdown, {BREAKDOWN_TRANSCRIPTS} transcripts x 5 models: {breakdown:6.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.probes, args.rounds))

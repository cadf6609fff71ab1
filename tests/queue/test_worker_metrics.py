"""Metrics with real worker processes: each worker counts its own calls (served with
`--metrics-port`), and `serve`'s `/metrics` reads what the whole fleet is doing from
PostgreSQL, so it is true however many workers there are."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from modeldesk.app import create_app
from modeldesk.auth import create_token
from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus
from modeldesk.runs import cost_breakdown
from modeldesk.runs.fleet_status import provider_activity
from modeldesk.testing import Simulator
from modeldesk.testing.live_server import free_port
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run, wait_for_run
from modeldesk.testing.worker_fleet import WorkerFleet

WORKERS = 3


@pytest.fixture
async def serve_http(db: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """`serve`'s app on the test database (its /metrics), over ASGI."""
    context = AppContext(
        settings=Settings(database_url=db.url, data_dir=tmp_path), db=db, owns_embedded_server=False
    )
    app = create_app(context)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://serve.test") as client:
        yield client
    await app.state.graphql.close()


def _calls_by_outcome(bodies: list[str], provider: str) -> Counter[str]:
    """modeldesk_provider_calls_total of one provider, summed over the scraped processes."""
    total: Counter[str] = Counter()
    for body in bodies:
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if (
                    sample.name == "modeldesk_provider_calls_total"
                    and sample.labels["provider"] == provider
                ):
                    total[sample.labels["outcome"]] += int(sample.value)
    return total


def _summed(bodies: list[str], name: str, **labels: str) -> float:
    """A sample summed over the scraped processes (0 where a process has none)."""
    return sum(
        sample.value
        for body in bodies
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == name and sample.labels == labels
    )


def _value(body: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"no {name}{labels} in the scrape")


async def test_counters_and_gauges_agree_with_the_simulator_and_the_runs(
    db: Database,
    admin: Principal,
    sim: Simulator,
    fleet: WorkerFleet,
    serve_http: httpx.AsyncClient,
) -> None:
    wide, wide_model = await add_simulated_provider(db, admin, sim.url, "wide", parallel=2)
    narrow, narrow_model = await add_simulated_provider(db, admin, sim.url, "narrow", parallel=1)
    sim.configure(
        wide_model.model_id,
        provider=wide.name,
        latency=0.15,
        outcomes=["ok", "429", "ok", "ok", "429", "ok"],
        input_tokens=1000,
        output_tokens=200,
    )
    sim.configure(narrow_model.model_id, provider=narrow.name, latency=0.1, output_tokens=50)
    ports = [free_port() for _ in range(WORKERS)]
    for port in ports:
        fleet.start(args=["--metrics-port", str(port)])
    fleet.wait_until_started()

    runs = [
        await queue_probe_run(db, admin, [wide_model], 16),
        await queue_probe_run(db, admin, [narrow_model], 6),
    ]
    highest = {wide.name: 0, narrow.name: 0}
    finished = asyncio.gather(*(wait_for_run(db, run.id, within=60) for run in runs))
    while not finished.done():
        for activity in await provider_activity(db):
            if activity.name in highest:
                assert activity.in_flight <= activity.parallel_limit, activity
                highest[activity.name] = max(highest[activity.name], activity.in_flight)
        await asyncio.sleep(0.02)
    done = await finished
    assert [run.status for run in done] == [RunStatus.COMPLETED] * 2
    assert highest == {wide.name: 2, narrow.name: 1}  # the limits were reached, never passed

    async with httpx.AsyncClient(timeout=10) as client:
        scrapes = [(await client.get(f"http://127.0.0.1:{port}/metrics")).text for port in ports]
    stats = sim.stats()["models"]
    wide_calls = _calls_by_outcome(scrapes, wide.name)
    assert wide_calls == {"success": 16, "rate_limited": 2}
    assert sum(wide_calls.values()) == stats[wide_model.model_id]["requests"]
    assert _calls_by_outcome(scrapes, narrow.name) == {"success": 6}
    assert stats[narrow_model.model_id]["requests"] == 6
    durations = _summed(scrapes, "modeldesk_provider_call_seconds_count", provider=wide.name)
    assert durations == 18

    _, token = await create_token(db, role="viewer", name="scraper")
    refused = await serve_http.get("/metrics")
    assert refused.status_code == 401
    scrape = await serve_http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert scrape.status_code == 200
    for run, provider, model in ((runs[0], wide, wide_model), (runs[1], narrow, narrow_model)):
        recorded = (await cost_breakdown(db, run.id)).total.cost
        assert recorded > 0
        scraped = _value(
            scrape.text, "modeldesk_cost_usd_total", provider=provider.name, model=model.model_id
        )
        assert Decimal(str(scraped)) == recorded
        assert _value(scrape.text, "modeldesk_provider_in_flight", provider=provider.name) == 0
        assert _value(scrape.text, "modeldesk_probes_queued", provider=provider.name) == 0
    assert _value(scrape.text, "modeldesk_runs", status=RunStatus.COMPLETED) == 2

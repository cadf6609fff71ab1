"""`/metrics`: refused without a token; with one, this process's counters and the fleet's
gauges as the database has them at the scrape."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus
from modeldesk.testing.spend_records import SAMPLE_CALLS, record_calls

METRIC_NAMES = {
    "modeldesk_provider_calls",
    "modeldesk_provider_call_seconds",
    "modeldesk_provider_in_flight",
    "modeldesk_provider_limit",
    "modeldesk_provider_held_seconds",
    "modeldesk_probes_queued",
    "modeldesk_cost_usd",
    "modeldesk_runs",
}


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def test_anonymous_and_unknown_tokens_are_refused(http: httpx.AsyncClient) -> None:
    anonymous = await http.get("/metrics")
    unknown = await http.get("/metrics", headers={"Authorization": "Bearer mdk_not_a_token"})

    for response in (anonymous, unknown):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "modeldesk_" not in response.text


async def test_a_viewer_scrapes_the_fleet_as_the_database_has_it(
    seeded_db: Database, admin: Principal, http: httpx.AsyncClient, viewer_token: str
) -> None:
    await record_calls(seeded_db, admin, SAMPLE_CALLS)  # its 12 probes stay queued
    async with seeded_db.transaction() as session:
        provider_id = await session.scalar(text("SELECT id FROM llm_providers WHERE name='openai'"))
        await session.execute(
            text(
                "INSERT INTO provider_holds (provider_id, held_until, reason)"
                " VALUES (:id, clock_timestamp() + interval '100 seconds', 'HTTP 429')"
            ),
            {"id": provider_id},
        )
        # One openai job picked by a worker: a call in flight.
        await session.execute(
            text(
                "UPDATE pgqueuer SET status = 'picked' WHERE id = "
                "(SELECT min(id) FROM pgqueuer WHERE entrypoint = 'probe.openai')"
            )
        )

    response = await http.get("/metrics", headers={"Authorization": f"Bearer {viewer_token}"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {family.name for family in text_string_to_metric_families(response.text)}
    assert families >= METRIC_NAMES
    samples = _samples(response.text)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("modeldesk_provider_in_flight", provider="openai") == 1
    assert value("modeldesk_provider_in_flight", provider="anthropic") == 0
    # 4 scenarios x 2 openai models, one of them picked; 4 x 1 anthropic model.
    assert value("modeldesk_probes_queued", provider="openai") == 7
    assert value("modeldesk_probes_queued", provider="anthropic") == 4
    assert value("modeldesk_provider_limit", provider="openai", kind="parallel") == 5
    assert value("modeldesk_provider_limit", provider="openai", kind="rpm") == 60
    assert value("modeldesk_provider_limit", provider="google", kind="parallel") == 1
    assert 98 < value("modeldesk_provider_held_seconds", provider="openai") <= 100
    assert value("modeldesk_provider_held_seconds", provider="anthropic") == 0
    # Every transcript's cost, the ones outside any spend period included.
    assert value("modeldesk_cost_usd_total", provider="openai", model="gpt-5-mini") == 1.002
    assert value("modeldesk_cost_usd_total", provider="openai", model="gpt-5.1") == 0.0125
    assert (
        value("modeldesk_cost_usd_total", provider="anthropic", model="claude-haiku-4-5") == 2.0006
    )
    assert value("modeldesk_runs", status=RunStatus.PENDING.value) == 1
    assert value("modeldesk_runs", status=RunStatus.COMPLETED.value) == 0

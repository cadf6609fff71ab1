"""A probe whose provider row points its key somewhere it may not go fails without a call.

The rows are changed in the database directly, as a row written under an
earlier, looser configuration would be: the check at call time is what stops
the key then (SPEC 9.6).
"""

from __future__ import annotations

import httpx
import pytest
from runs_support import Driver, make_definition, probe_ids
from sqlalchemy import select, update

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.run_tables import Probe
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.enums import ProbeState
from modeldesk.runs import create_run

ATTACKER = "https://attacker.example"


async def _probe_sent(
    db: Database, admin: Principal, settings: Settings, **row: str
) -> tuple[Probe, list[httpx.Request]]:
    """Point openai's row at `row`, run one probe of gpt-5-mini; the probe and what was sent."""
    async with db.transaction() as session:
        await session.execute(update(LlmProvider).where(LlmProvider.name == "openai").values(**row))
    definition = await make_definition(db, admin, scenarios=1)
    run = await create_run(db, admin, definition.id, ["openai/gpt-5-mini"])
    sent: list[httpx.Request] = []

    def listener(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(503, json={"error": "listening only"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(listener)) as client:
        [probe_id] = await probe_ids(db, run.id)
        await Driver(db, settings, client).step(probe_id)
    async with db.session() as session:
        probe = await session.scalar(select(Probe).where(Probe.id == probe_id))
    assert probe is not None
    return probe, sent


async def test_a_key_is_not_sent_to_a_host_that_is_not_allowed(
    catalog: Database, admin: Principal, settings: Settings
) -> None:
    probe, sent = await _probe_sent(catalog, admin, settings, base_url=ATTACKER)
    assert sent == []
    assert (probe.state, probe.error_code, probe.retryable) == (
        ProbeState.FAILED,
        "VALIDATION_ERROR",
        False,
    )
    assert "MODELDESK_ALLOWED_PROVIDER_HOSTS" in (probe.error_message or "")


async def test_a_server_setting_is_never_sent_as_a_key(
    catalog: Database, admin: Principal, settings: Settings
) -> None:
    probe, sent = await _probe_sent(
        catalog,
        admin,
        settings,
        base_url="http://127.0.0.1:8933",
        api_key_env="MODELDESK_DATABASE_URL",
    )
    assert sent == []
    assert (probe.state, probe.error_code) == (ProbeState.FAILED, "VALIDATION_ERROR")
    assert "MODELDESK_PROVIDER_KEY_VARS" in (probe.error_message or "")


async def test_a_host_allowed_at_call_time_receives_the_call(
    catalog: Database, admin: Principal, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same row once the operator lists the host, so the listener can hear."""
    monkeypatch.setenv("MODELDESK_ALLOWED_PROVIDER_HOSTS", "attacker.example")
    _, sent = await _probe_sent(catalog, admin, settings, base_url=ATTACKER)
    assert [request.url.host for request in sent] == ["attacker.example"]
    assert sent[0].headers["authorization"] == "Bearer test-key-openai_api_key"

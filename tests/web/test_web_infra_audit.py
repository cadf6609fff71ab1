"""Settings > Infrastructure and the audit log over ASGI."""

from __future__ import annotations

import logging

import pytest
from web_ui_client import UiClient

from modeldesk.catalog import get_setting
from modeldesk.db.session import Database
from modeldesk.web.audit_routes import Change, compact_diff


async def test_the_configured_model_is_shown_in_effect(
    admin_ui: UiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    html = (await admin_ui.get("/settings/infrastructure")).text
    for label in ("Scenario expansion", "Summarization", "Analysis"):
        assert f">{label}</h2>" in html
    assert '<code>openai/gpt-5-mini</code> <span class="badge badge-ok">Configured</span>' in html
    # Nothing is configured for summarization: the cheapest usable model stands in, and why.
    assert "Standing in because no model is configured." in html
    assert '<optgroup label="Anthropic">' in html
    assert "Claude Haiku 4.5 (anthropic/claude-haiku-4-5) — no API key" in html


async def test_viewing_a_fallback_logs_no_error(
    admin_ui: UiClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with caplog.at_level(logging.INFO):
        html = (await admin_ui.get("/settings/infrastructure")).text
    assert "Standing in because no model is configured." in html
    # Only internal work that actually falls back is an error worth a log line.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_nothing_usable_is_explained(admin_ui: UiClient) -> None:
    html = (await admin_ui.get("/settings/infrastructure")).text
    assert "no active model has an API key configured" in html


async def test_saving_a_picker_stores_the_setting_and_shows_the_fallback(
    admin_ui: UiClient, seeded_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    response = await admin_ui.act(
        "/settings/infrastructure/analysis", {"model": "anthropic/claude-sonnet-4-5"}
    )
    assert response.status_code == 200
    setting = await get_setting(seeded_db, "infra_model_analysis")
    assert setting.value == {"providerName": "anthropic", "modelId": "claude-sonnet-4-5"}
    assert "Analysis now uses anthropic/claude-sonnet-4-5." in response.text
    assert "provider has no API key (ANTHROPIC_API_KEY is not set)" in response.text
    assert "openai/gpt-5-mini stands in." in response.text
    assert 'value="anthropic/claude-sonnet-4-5" selected' in response.text


async def test_an_empty_choice_is_refused_next_to_the_picker(admin_ui: UiClient) -> None:
    response = await admin_ui.act("/settings/infrastructure/summarization", {"model": ""})
    assert response.status_code == 422
    assert 'id="infra-summarization-error">providerName must not be empty.' in response.text


async def test_an_unknown_purpose_is_refused(admin_ui: UiClient) -> None:
    response = await admin_ui.act("/settings/infrastructure/poetry", {"model": "openai/gpt-5.1"})
    assert response.status_code == 422
    assert "Unknown purpose" in response.text
    assert response.headers["HX-Retarget"] == "#status"


async def test_a_viewer_sees_pickers_read_only_and_is_refused(viewer_ui: UiClient) -> None:
    html = (await viewer_ui.get("/settings/infrastructure")).text
    assert "<select" not in html and "Configured: <code>openai/gpt-5-mini</code>" in html
    response = await viewer_ui.act("/settings/infrastructure/analysis", {"model": "openai/gpt-5.1"})
    assert response.status_code == 403


async def test_the_audit_log_shows_actor_and_what_changed(admin_ui: UiClient) -> None:
    await admin_ui.act("/settings/models/2/default")
    html = (await admin_ui.get("/audit")).text
    assert "admin in tests" in html
    assert "<code>model.set_default</code>" in html
    assert "model gpt-5.1 (#2)" in html
    assert '<span class="diff-field">is_default</span>' in html
    assert "<del>false</del>" in html and "<ins>true</ins>" in html
    providers_only = (await admin_ui.get("/audit?entity=provider")).text
    assert "model.set_default" not in providers_only
    assert "No changes recorded for providers." in providers_only


async def test_the_audit_log_pages_fifty_at_a_time(admin_ui: UiClient) -> None:
    for limit in range(1, 53):
        form = {"maxParallelRequests": str(limit), "requestsPerMinute": "60", "isEnabled": "on"}
        await admin_ui.act("/settings/providers/1", form)
    first = (await admin_ui.get("/audit")).text
    assert first.count("<code>provider.update</code>") == 50 and ">Older</a>" in first
    second = (await admin_ui.get("/audit?page=2")).text
    assert second.count("<code>provider.update</code>") == 2 and ">Newer</a>" in second


def test_compact_diff_keeps_only_what_changed() -> None:
    before = {"name": "a", "limit": 1, "base_url": None}
    after = {"name": "a", "limit": 2, "base_url": "http://x"}
    assert compact_diff(before, after) == [
        Change("limit", "1", "2"),
        Change("base_url", None, "http://x"),
    ]
    assert compact_diff(None, {"modelId": "m"}) == [Change("modelId", None, "m")]
    assert compact_diff([1], [1, 2]) == [Change("value", "[1]", "[1, 2]")]
    assert compact_diff("same", "same") == []

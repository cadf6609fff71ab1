"""Settings > Models over ASGI: what the page shows and each action's effect in the database."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import event
from web_catalog_reads import find_model_row, model_row, price_versions, provider_row
from web_ui_client import UiClient

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ModelCreate, create_model
from modeldesk.db.session import Database

WRITE_LABELS = ("Add model", "Edit", "Deprecate", "Reactivate", "Set as default", "Save")


def _buttons(html: str, label: str) -> int:
    return len(re.findall(rf"<button[^>]*>\s*{re.escape(label)}\s*</button>", html))


async def test_the_page_shows_every_provider_and_model(
    admin_ui: UiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    html = (await admin_ui.get("/settings/models")).text
    for name in ("OpenAI", "Anthropic", "xAI", "Google", "DeepSeek", "Mistral"):
        assert f">{name}</h2>" in html
    assert "<code>claude-sonnet-4-5</code>" in html
    assert "$0.25" in html and "$15.00" in html
    assert html.count(">Default</span>") == 6
    assert html.count("Key configured") == 1
    assert "No API key (ANTHROPIC_API_KEY)" in html
    assert _buttons(html, "Add model") == 1
    assert _buttons(html, "Save") == 6 + 1  # one per card, and the add dialog's
    assert _buttons(html, "Set as default") == 4


async def test_a_viewer_sees_no_write_controls(viewer_ui: UiClient) -> None:
    html = (await viewer_ui.get("/settings/models")).text
    assert "read-only" in html
    for label in WRITE_LABELS:
        assert _buttons(html, label) == 0, label
    assert "hx-post" not in html


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/settings/models/1/deprecate", {}),
        ("/settings/models/2/default", {}),
        ("/settings/models/1", {"displayName": "Renamed"}),
        ("/settings/providers/1", {"maxParallelRequests": "1", "requestsPerMinute": "1"}),
    ],
)
async def test_the_server_refuses_a_viewer(
    viewer_ui: UiClient, seeded_db: Database, path: str, form: dict[str, str]
) -> None:
    response = await viewer_ui.act(path, form)
    assert response.status_code == 403
    assert "Only an admin may" in response.text
    model = await model_row(seeded_db, "gpt-5-mini")
    assert (model.status, model.is_default, model.display_name) == ("ACTIVE", True, "GPT-5 mini")
    assert (await provider_row(seeded_db, "openai")).max_parallel_requests == 5


async def test_a_viewer_cannot_add_a_model(viewer_ui: UiClient, seeded_db: Database) -> None:
    form = {"providerId": "1", "modelId": "gpt-x", "displayName": "X"}
    response = await viewer_ui.act("/settings/models", form)
    assert response.status_code == 403
    assert "Only an admin may" in response.text
    assert await find_model_row(seeded_db, "gpt-x") is None


async def test_adding_a_model_updates_its_card_and_closes_the_dialog(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    form = {
        "providerId": "1",
        "modelId": "gpt-5-nano",
        "displayName": "GPT-5 nano",
        "costInputPerMillion": "0.05",
        "costOutputPerMillion": "0.40",
        "setAsDefault": "on",
    }
    response = await admin_ui.act("/settings/models", form)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "closeDialogs"
    assert 'id="provider-1" aria-labelledby="provider-1-title" hx-swap-oob="true"' in response.text
    assert "<code>gpt-5-nano</code>" in response.text
    assert "Added GPT-5 nano (gpt-5-nano) to OpenAI. It is now the provider&#39;s default." in (
        response.text
    )
    model = await model_row(seeded_db, "gpt-5-nano")
    assert model.cost_input_per_million == Decimal("0.05")
    assert model.is_default
    assert not (await model_row(seeded_db, "gpt-5-mini")).is_default


async def test_a_bad_price_is_reported_next_to_its_field(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    form = {
        "providerId": "1",
        "modelId": "gpt-bad",
        "displayName": "Bad",
        "costInputPerMillion": "abc",
    }
    response = await admin_ui.act("/settings/models", form)
    assert response.status_code == 422
    assert re.search(
        r'id="add-input-price" name="costInputPerMillion" type="text" value="abc"'
        r' aria-invalid="true" aria-describedby="add-input-price-error"',
        response.text,
    )
    assert '<p class="field-error" id="add-input-price-error">costInputPerMillion must be a' in (
        response.text
    )
    assert 'value="gpt-bad"' in response.text  # what was typed is kept
    with pytest.raises(AssertionError):
        await model_row(seeded_db, "gpt-bad")


async def test_a_duplicate_model_id_is_refused_on_the_form(admin_ui: UiClient) -> None:
    form = {"providerId": "1", "modelId": "gpt-5-mini", "displayName": "Again"}
    response = await admin_ui.act("/settings/models", form)
    assert response.status_code == 409
    assert "already has a model with that model id" in response.text
    assert 'role="alert"' in response.text


async def test_editing_prices_opens_a_new_price_version(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    model = await model_row(seeded_db, "gpt-5.1")
    form_page = await admin_ui.fragment(f"/settings/models/{model.id}/edit")
    assert 'value="gpt-5.1" readonly' in form_page.text
    assert "Price history" in form_page.text
    assert '"openDialog"' in form_page.headers["HX-Trigger-After-Settle"]
    form = {
        "displayName": "GPT-5.1 (2025)",
        "costInputPerMillion": "1.10",
        "costOutputPerMillion": "9",
    }
    response = await admin_ui.act(f"/settings/models/{model.id}", form)
    assert response.status_code == 200
    assert "Saved GPT-5.1 (2025) (gpt-5.1)." in response.text
    assert "$1.10" in response.text and "$9.00" in response.text
    edited = await model_row(seeded_db, "gpt-5.1")
    assert (edited.display_name, edited.cost_output_per_million) == ("GPT-5.1 (2025)", Decimal(9))
    versions = await price_versions(seeded_db, model.id)
    assert [v.cost_input_per_million for v in versions] == [Decimal("1.25"), Decimal("1.10")]
    history = (await admin_ui.fragment(f"/settings/models/{model.id}/edit")).text
    assert history.count("<tr><td>") == 2 and "in force" in history


async def test_an_empty_display_name_is_refused_in_the_edit_form(admin_ui: UiClient) -> None:
    response = await admin_ui.act("/settings/models/1", {"displayName": " "})
    assert response.status_code == 422
    assert 'id="edit-display-name-error">displayName must not be empty.' in response.text


async def test_deprecating_the_default_says_where_the_default_moves(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    confirm = (await admin_ui.fragment("/settings/models/1/deprecate")).text
    assert "The default will move to <strong>GPT-5.1</strong>" in confirm
    response = await admin_ui.act("/settings/models/1/deprecate")
    assert response.status_code == 200
    assert "The default for OpenAI moved to GPT-5.1 (gpt-5.1)." in response.text
    assert response.headers["HX-Trigger"] == "closeDialogs"
    assert (await model_row(seeded_db, "gpt-5-mini")).status == "DEPRECATED"
    assert (await model_row(seeded_db, "gpt-5.1")).is_default


async def test_deprecating_the_last_model_leaves_no_default_and_says_so(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    model = await model_row(seeded_db, "gemini-2.5-pro")
    confirm = (await admin_ui.fragment(f"/settings/models/{model.id}/deprecate")).text
    assert "will have <strong>no default model</strong>" in confirm
    response = await admin_ui.act(f"/settings/models/{model.id}/deprecate")
    assert "Google now has no default model" in response.text
    assert "flash-warning" in response.text
    assert "Google has no default model and no active model." in response.text
    reactivated = await admin_ui.act(f"/settings/models/{model.id}/reactivate")
    assert "is active again" in reactivated.text
    assert "Google still has no default: use Set as default." in reactivated.text
    assert (await model_row(seeded_db, "gemini-2.5-pro")).status == "ACTIVE"
    made_default = await admin_ui.act(f"/settings/models/{model.id}/default")
    assert "Gemini 2.5 Pro is now the default for Google." in made_default.text
    assert (await model_row(seeded_db, "gemini-2.5-pro")).is_default


async def test_set_as_default_names_the_previous_default(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    model = await model_row(seeded_db, "claude-sonnet-4-5")
    response = await admin_ui.act(f"/settings/models/{model.id}/default")
    assert "is now the default for Anthropic (previously Claude Haiku 4.5)." in response.text
    assert (await model_row(seeded_db, "claude-sonnet-4-5")).is_default
    assert not (await model_row(seeded_db, "claude-haiku-4-5")).is_default


async def test_a_deprecated_model_cannot_become_default(admin_ui: UiClient) -> None:
    await admin_ui.act("/settings/models/2/deprecate")
    response = await admin_ui.act("/settings/models/2/default")
    assert response.status_code == 409
    assert "reactivate it first" in response.text
    assert response.headers["HX-Retarget"] == "#status"


async def test_unknown_models_are_reported(admin_ui: UiClient) -> None:
    response = await admin_ui.fragment("/settings/models/999/edit")
    assert response.status_code == 404
    assert "No model with id 999." in response.text
    page = await admin_ui.get("/settings/models/999/deprecate")
    assert page.status_code == 404 and "<h1" in page.text


async def test_provider_settings_are_saved_from_the_card(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    form = {
        "maxParallelRequests": "8",
        "requestsPerMinute": "120",
        "baseUrl": "http://127.0.0.1:9/v1/",
    }
    response = await admin_ui.act("/settings/providers/1", form)
    assert response.status_code == 200
    assert "Saved OpenAI: max parallel 8, 120 req/min, disabled: its queued jobs wait." in (
        response.text
    )
    provider = await provider_row(seeded_db, "openai")
    assert (provider.max_parallel_requests, provider.requests_per_minute) == (8, 120)
    assert (provider.is_enabled, provider.base_url) == (False, "http://127.0.0.1:9/v1")
    again = await admin_ui.act(
        "/settings/providers/1",
        {"maxParallelRequests": "0", "requestsPerMinute": "120", "isEnabled": "on"},
    )
    assert "Max parallel 0 is treated as 1." in again.text
    provider = await provider_row(seeded_db, "openai")
    assert (provider.is_enabled, provider.base_url) == (True, None)


async def test_a_bad_limit_is_shown_next_to_its_field_with_what_was_typed(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    form = {"maxParallelRequests": "-2", "requestsPerMinute": "60", "isEnabled": "on"}
    response = await admin_ui.act("/settings/providers/1", form)
    assert response.status_code == 422
    assert 'id="p1-maxParallelRequests-error">maxParallelRequests must be 0 or more' in (
        response.text
    )
    assert 'value="-2"' in response.text
    assert (await provider_row(seeded_db, "openai")).max_parallel_requests == 5


async def test_the_page_costs_the_same_queries_for_10_or_50_models(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    async def count_queries() -> int:
        statements: list[str] = []

        def record(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(seeded_db.engine.sync_engine, "before_cursor_execute", record)
        try:
            assert (await admin_ui.get("/settings/models")).status_code == 200
        finally:
            event.remove(seeded_db.engine.sync_engine, "before_cursor_execute", record)
        return len(statements)

    before = await count_queries()
    assert before > 0  # the page's statements are seen at all
    admin = Principal.system()
    for i in range(40):
        data = ModelCreate.parse(
            provider_id=1 + i % 6,
            model_id=f"extra-{i}",
            display_name=f"Extra {i}",
            cost_input_per_million="1",
            cost_output_per_million="2",
        )
        await create_model(seeded_db, admin, data)
    html = (await admin_ui.get("/settings/models")).text
    assert html.count('<tr id="model-') == 50
    assert await count_queries() == before

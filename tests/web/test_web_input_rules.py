"""The UI's forms keep the one rule for stored text, and no id in a URL reaches the database
beyond what an id can be: refused or not found, never a server error."""

from __future__ import annotations

import pytest
from web_ui_client import UiClient

from modeldesk.catalog import list_settings
from modeldesk.db.session import Database
from modeldesk.runs import list_definitions

BEYOND_ANY_ID = str(2**64)


async def test_a_model_id_holding_nul_is_refused_next_to_its_field(admin_ui: UiClient) -> None:
    form = {"providerId": "1", "modelId": "gpt\x00x", "displayName": "X"}
    response = await admin_ui.act("/settings/models", form)
    assert response.status_code == 422
    assert "modelId must not contain control characters" in response.text


async def test_a_definition_template_keeps_lines_but_refuses_control_characters(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    form = {"name": "Escapes", "template": "Say \x1b[1mhi", "preamble": "", "scenarios": ""}
    refused = await admin_ui.act("/runs/definitions", form)
    assert refused.status_code == 422
    assert "template must not contain control characters" in refused.text
    assert await list_definitions(seeded_db) == []

    form["template"] = "Say hi\n\tthen bye"
    created = await admin_ui.act("/runs/definitions", form)
    assert created.status_code == 200, created.text
    assert [d.template for d in await list_definitions(seeded_db)] == ["Say hi\n\tthen bye"]


async def test_an_infrastructure_choice_holding_nul_is_refused(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    before = [(s.key, s.value) for s in await list_settings(seeded_db)]
    response = await admin_ui.act(
        "/settings/infrastructure/analysis", {"model": "openai/gpt\x00-5"}
    )
    assert response.status_code == 422
    assert [(s.key, s.value) for s in await list_settings(seeded_db)] == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/settings/models/{BEYOND_ANY_ID}/edit"),
        ("get", f"/settings/models/{BEYOND_ANY_ID}/deprecate"),
        ("post", f"/settings/models/{BEYOND_ANY_ID}"),
        ("post", f"/settings/models/{BEYOND_ANY_ID}/deprecate"),
        ("post", f"/settings/models/{BEYOND_ANY_ID}/reactivate"),
        ("post", f"/settings/models/{BEYOND_ANY_ID}/default"),
        ("post", f"/settings/providers/{BEYOND_ANY_ID}"),
        ("get", f"/runs/{BEYOND_ANY_ID}"),
        ("get", f"/runs/{BEYOND_ANY_ID}/live"),
        ("post", f"/runs/{BEYOND_ANY_ID}/cancel"),
        ("post", f"/runs/{BEYOND_ANY_ID}/pause"),
        ("get", f"/runs/{BEYOND_ANY_ID}/transcripts.csv"),
    ],
)
async def test_an_id_in_a_url_beyond_any_row_is_not_found(
    admin_ui: UiClient, method: str, path: str
) -> None:
    if method == "get":
        response = await admin_ui.fragment(path)
    else:
        response = await admin_ui.act(path, {"displayName": "X", "maxParallelRequests": "1"})
    assert response.status_code == 404, response.text
    assert f"with id {BEYOND_ANY_ID}" in response.text


@pytest.mark.parametrize("definition_id", [BEYOND_ANY_ID, "\u00b2", "0"])
async def test_an_estimate_for_an_impossible_definition_id_asks_for_a_definition(
    admin_ui: UiClient, definition_id: str
) -> None:
    response = await admin_ui.get(
        "/runs/estimate", params={"definitionId": definition_id, "models": "1"}
    )
    assert response.status_code == 200
    assert "Pick a definition." in response.text

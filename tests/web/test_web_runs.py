"""The run pages over ASGI: building a run, its estimate, creation, the list, details, cancel."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from web_ui_client import UiClient, badge_text

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ModelCreate,
    ProviderCreate,
    create_model,
    create_provider,
    deprecate_model,
)
from modeldesk.db.run_tables import Probe, Transcript
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus, TranscriptStatus
from modeldesk.runs import create_definition, create_run, get_run, list_runs
from modeldesk.web import runs_view

ADMIN = Principal.system("alice")


@pytest.fixture
def openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


async def _definition(db: Database) -> int:
    definition = await create_definition(
        db, ADMIN, name="Greetings", template="Say hello.", scenarios=["Hello Ann", "Hello Bob"]
    )
    return definition.id


async def test_without_a_definition_the_page_offers_to_write_one(admin_ui: UiClient) -> None:
    html = (await admin_ui.get("/runs/new")).text
    assert "There is no definition yet." in html
    assert "<details open>" in html and "Create definition" in html


async def test_creating_a_definition_selects_it_for_the_run(
    admin_ui: UiClient, openai_key: None
) -> None:
    form = {"name": "Colours", "template": "Name a colour.", "scenarios": "Red?\n\nBlue?\n"}
    response = await admin_ui.act("/runs/definitions", form)
    assert response.status_code == 200
    assert "Definition “Colours” created with 2 scenario(s)." in response.text
    assert 'id="run-builder"' in response.text and 'hx-swap-oob="true"' in response.text
    assert "Colours — 2 scenarios</option>" in response.text
    assert 'id="run-model-1" name="models" value="1" checked' in response.text


async def test_definition_errors_sit_next_to_their_field(admin_ui: UiClient) -> None:
    form = {"name": "Bad", "template": "Hello {{who}}", "scenarios": ""}
    response = await admin_ui.act("/runs/definitions", form)
    assert response.status_code == 422
    assert 'id="definition-template-error">The template uses placeholders' in response.text
    assert "Hello {{who}}</textarea>" in response.text
    assert "<details open>" in response.text


async def test_defaults_are_preselected_and_deprecated_models_are_not_offered(
    admin_ui: UiClient, seeded_db: Database, openai_key: None
) -> None:
    await _definition(seeded_db)
    await deprecate_model(seeded_db, ADMIN, 4)  # claude-sonnet-4-5
    provider = await create_provider(
        seeded_db,
        ADMIN,
        ProviderCreate.parse(name="local", display_name="Local", api_style="OPENAI"),
    )
    await create_model(
        seeded_db,
        ADMIN,
        ModelCreate.parse(
            provider_id=provider.id,
            model_id="llama",
            display_name="Llama",
            cost_input_per_million="0",
            cost_output_per_million="0",
        ),
    )
    html = (await admin_ui.get("/runs/new")).text
    # Only OpenAI has a key, so only its default is ticked; the others are offered unticked.
    assert 'id="run-model-1" name="models" value="1" checked' in html
    assert 'id="run-model-3" name="models" value="3">' in html
    assert "claude-sonnet-4-5" not in html
    assert "Local has no default model, so nothing of it is pre-selected." in html
    assert "Greetings — 2 scenarios" in html


async def test_the_estimate_follows_the_selection(
    admin_ui: UiClient, seeded_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    definition_id = await _definition(seeded_db)
    response = await admin_ui.get(
        "/runs/estimate", params={"definitionId": definition_id, "models": ["1", "2"]}
    )
    assert "Estimated cost <strong>$0.012009</strong> for 4 probes" in response.text
    assert "<code>openai/gpt-5.1</code>" in response.text
    assert "No model is ticked" not in response.text
    # None ticked is the service's "no models given": the defaults, or why there are none.
    none = await admin_ui.get("/runs/estimate", params={"definitionId": definition_id})
    assert "No estimate: No models were given, and no enabled provider" in none.text
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    defaults = await admin_ui.get("/runs/estimate", params={"definitionId": definition_id})
    assert "No model is ticked, so the run targets each enabled provider" in defaults.text
    assert "for 2 probes" in defaults.text and "<code>openai/gpt-5-mini</code>" in defaults.text
    bad = await admin_ui.get(
        "/runs/estimate",
        params={"definitionId": definition_id, "models": "1", "samplePercentage": "0"},
    )
    assert "No estimate:" in bad.text


async def test_starting_a_run_redirects_to_its_page(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    form = {"definitionId": str(definition_id), "models": "2", "samplePercentage": "100"}
    response = await admin_ui.act("/runs", form)
    (run,) = await list_runs(seeded_db)
    assert response.headers["HX-Redirect"] == f"/runs/{run.id}?created=1"
    assert run.total == 2 and run.created_by == "admin in tests"
    page = (await admin_ui.get(f"/runs/{run.id}?created=1")).text
    assert f"Run #{run.id} started: 2 probes queued." in page
    assert f'hx-get="/runs/{run.id}/live" hx-trigger="every 2s"' in page
    assert "<code>openai/gpt-5.1</code>" in page


async def test_a_refused_run_keeps_the_selection_and_says_why(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    await deprecate_model(seeded_db, ADMIN, 2)
    form = {"definitionId": str(definition_id), "models": "2"}
    response = await admin_ui.act("/runs", form)
    assert response.status_code == 409
    assert "These models cannot be used: openai/gpt-5.1 (GPT-5.1) is deprecated." in response.text
    empty = await admin_ui.act("/runs", {"definitionId": str(definition_id)})
    assert empty.status_code == 422
    assert 'id="run-models-error">No models were given, and no enabled provider' in empty.text
    assert await list_runs(seeded_db) == []


async def test_a_run_with_no_model_ticked_targets_the_defaults(
    admin_ui: UiClient, seeded_db: Database, openai_key: None
) -> None:
    definition_id = await _definition(seeded_db)
    response = await admin_ui.act("/runs", {"definitionId": str(definition_id)})
    (run,) = await list_runs(seeded_db)
    assert response.headers["HX-Redirect"] == f"/runs/{run.id}?created=1"
    assert run.total == 2
    page = (await admin_ui.get(f"/runs/{run.id}")).text
    assert "<code>openai/gpt-5-mini</code>" in page


async def test_a_viewer_can_price_but_not_start_a_run(
    viewer_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    html = (await viewer_ui.get("/runs/new")).text
    assert "Start run" not in html and "Create definition" not in html
    response = await viewer_ui.act("/runs", {"definitionId": str(definition_id), "models": "1"})
    assert response.status_code == 403
    assert await list_runs(seeded_db) == []


async def test_the_list_polls_only_while_a_run_moves(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    run = await create_run(seeded_db, ADMIN, definition_id, ["1", "3"])
    html = (await admin_ui.get("/runs")).text
    assert 'hx-get="/runs/rows?page=1" hx-trigger="every 2s"' in html
    assert "<code>openai/gpt-5-mini</code> <code>anthropic/claude-haiku-4-5</code>" in html
    assert 'value="0" aria-label="Run #1 progress">0 of 4</progress>' in html
    cancelled = await admin_ui.act(f"/runs/{run.id}/cancel")
    assert "is cancelled: no new call starts. 0 of 4 probes had finished" in cancelled.text
    assert (await get_run(seeded_db, run.id)).status == RunStatus.CANCELLED
    rows = (await admin_ui.get("/runs/rows")).text
    assert rows.startswith('<tbody id="runs-rows">') and badge_text(RunStatus.CANCELLED) in rows


async def test_details_of_an_unknown_run_are_a_404(admin_ui: UiClient) -> None:
    response = await admin_ui.get("/runs/41")
    assert response.status_code == 404
    assert "No run with id 41." in response.text
    assert (await admin_ui.fragment("/runs/41/live")).status_code == 404


async def test_a_viewer_cannot_cancel_a_pending_run(
    viewer_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    run = await create_run(seeded_db, ADMIN, definition_id, ["1"])
    page = (await viewer_ui.get(f"/runs/{run.id}")).text
    assert "Cancel run" not in page
    response = await viewer_ui.act(f"/runs/{run.id}/cancel")
    assert response.status_code == 403
    assert (await get_run(seeded_db, run.id)).status == RunStatus.PENDING


async def test_a_run_with_more_transcripts_than_shown_says_how_many_there_are(
    admin_ui: UiClient, seeded_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One shown instead of 200, so two transcripts are enough to overflow the page.
    monkeypatch.setattr(runs_view, "TRANSCRIPTS_SHOWN", 1)
    run = await create_run(seeded_db, ADMIN, await _definition(seeded_db), ["1"])
    async with seeded_db.transaction() as session:
        probes = await session.scalars(select(Probe).where(Probe.run_id == run.id))
        session.add_all(
            Transcript(
                run_id=run.id,
                scenario_id=probe.scenario_id,
                model_id=probe.model_id,
                probe_id=probe.id,
                status=TranscriptStatus.SUCCEEDED,
                response=f"Answer {probe.id}",
            )
            for probe in probes
        )
    for path in (f"/runs/{run.id}", f"/runs/{run.id}/live"):
        page = (await admin_ui.get(path)).text
        assert "Showing the first 1 of 2 transcripts" in page
        assert page.count("Answer ") == 1

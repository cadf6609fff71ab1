"""Uploading a definition's scenarios as a file from `/runs/new` (issue 16), over ASGI."""

from __future__ import annotations

import json

import httpx
from web_ui_client import UiClient

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.request_limits import ADMIN_BODY_LIMIT
from modeldesk.runs import create_definition, list_runs, scenario_counts_by_definition_ids
from modeldesk.web.session import CSRF_FIELD, CSRF_HEADER

ADMIN = Principal.system("alice")
BUILDER_FIELDS = {"models": "2", "samplePercentage": "100"}


async def _definition(db: Database) -> int:
    definition = await create_definition(
        db, ADMIN, name="Greetings", template="Say hello.", scenarios=["Hello Ann", "Hello Bob"]
    )
    return definition.id


async def _count(db: Database, definition_id: int) -> int:
    return (await scenario_counts_by_definition_ids(db, [definition_id]))[definition_id]


async def _upload(
    client: UiClient,
    definition_id: int,
    name: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    *,
    csrf: str | None = None,
) -> httpx.Response:
    """The POST htmx sends from the upload form: multipart, the builder's fields included."""
    headers = {"HX-Request": "true", CSRF_HEADER: client.csrf if csrf is None else csrf}
    return await client.http.post(
        "/runs/scenarios",
        data={"definitionId": str(definition_id), **BUILDER_FIELDS},
        files={"scenarioFile": (name, content, content_type)},
        headers=headers,
    )


async def test_the_page_offers_the_upload_to_admins_only(
    admin_ui: UiClient, viewer_ui: UiClient, seeded_db: Database
) -> None:
    await _definition(seeded_db)
    admin_page = (await admin_ui.get("/runs/new")).text
    assert 'hx-post="/runs/scenarios" hx-encoding="multipart/form-data"' in admin_page
    assert 'name="scenarioFile" type="file"' in admin_page
    assert "Up to 20,000 scenarios." in admin_page
    assert "scenarioFile" not in (await viewer_ui.get("/runs/new")).text


async def test_before_any_definition_the_card_says_to_create_one_and_then_offers_the_form(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    page = (await admin_ui.get("/runs/new")).text
    assert "create the definition first" in page
    assert 'name="scenarioFile"' not in page

    first = {"name": "Colours", "template": "Name a colour.", "scenarios": "Red?"}
    response = await admin_ui.act("/runs/definitions", first)
    assert response.status_code == 200
    assert '<section id="scenario-upload" class="card"' in response.text
    assert 'name="scenarioFile" type="file"' in response.text
    # The dialog comes inside the card it replaces: the page never holds two.
    section = response.text.split('<section id="scenario-upload"', 1)[1].split("</section>", 1)[0]
    assert response.text.count('id="scenario-upload-dialog"') == 1
    assert 'id="scenario-upload-dialog"' in section

    # A later definition leaves the card alone, and a file picked in it.
    second = {"name": "Shapes", "template": "Name a shape.", "scenarios": "Round?"}
    later = await admin_ui.act("/runs/definitions", second)
    assert later.status_code == 200
    assert 'id="scenario-upload"' not in later.text
    assert 'id="run-builder"' in later.text


async def test_the_confirmation_says_how_many_scenarios_are_replaced(
    admin_ui: UiClient, viewer_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    confirm = await admin_ui.fragment(f"/runs/scenarios/confirm?definitionId={definition_id}")
    assert confirm.status_code == 200
    assert json.loads(confirm.headers["HX-Trigger-After-Settle"]) == {
        "openDialog": {"id": "scenario-upload-dialog"}
    }
    assert "will replace the 2 scenarios “Greetings” has now" in confirm.text
    assert 'form="scenario-upload-form" data-close-dialog>Replace 2 scenarios</button>' in (
        confirm.text
    )
    unknown = await admin_ui.fragment("/runs/scenarios/confirm?definitionId=999")
    assert unknown.status_code == 404 and "No definition with id 999." in unknown.text
    refused = await viewer_ui.fragment(f"/runs/scenarios/confirm?definitionId={definition_id}")
    assert refused.status_code == 403


async def test_a_20000_row_csv_replaces_the_scenarios_and_a_run_probes_them_all(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    rows = [f"Scenario {index:05d} ".ljust(300, "x") for index in range(20_000)]
    content = ("scenario\n" + "\n".join(rows) + "\n").encode()
    assert len(content) > 6_000_000  # far past a form field's bound, well inside the body's

    response = await _upload(admin_ui, definition_id, "big.csv", content, "text/csv")

    assert response.status_code == 200, response.text
    assert '<p class="alert alert-info">20,000 scenarios stored; the definition had 2.</p>' in (
        response.text
    )
    assert response.headers["HX-Trigger"] == "closeDialogs"
    # The builder comes back as submitted, with the definition's new count.
    assert 'id="run-builder" class="card"' in response.text and 'hx-swap-oob="true"' in (
        response.text
    )
    assert "Greetings — 20000 scenarios</option>" in response.text
    assert 'id="run-model-2" name="models" value="2" checked' in response.text
    assert await _count(seeded_db, definition_id) == 20_000

    started = await admin_ui.act("/runs", {"definitionId": str(definition_id), **BUILDER_FIELDS})
    (run,) = await list_runs(seeded_db)
    assert started.headers["HX-Redirect"] == f"/runs/{run.id}?created=1"
    assert run.total == 20_000


async def test_a_jsonl_file_of_strings_and_objects_is_taken(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    lines = [json.dumps("Plain string"), json.dumps({"text": "From an object"}), ""]
    content = "\n".join(lines).encode()

    response = await _upload(admin_ui, definition_id, "cases.jsonl", content)

    assert response.status_code == 200, response.text
    assert "2 scenarios stored; the definition had 2." in response.text
    started = await admin_ui.act("/runs", {"definitionId": str(definition_id), **BUILDER_FIELDS})
    (run,) = await list_runs(seeded_db)
    assert started.status_code == 200 and run.total == 2


async def test_a_malformed_file_is_refused_next_to_the_field(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    response = await _upload(admin_ui, definition_id, "cases.jsonl", b'"fine"\n{not json\n')
    assert response.status_code == 422
    assert '<p class="field-error" id="scenario-upload-error">Line 2 is not JSON:' in (
        response.text
    )
    assert 'class="flash flash-error"' in response.text  # and in the status region
    assert "run-builder" not in response.text
    assert await _count(seeded_db, definition_id) == 2

    wrong_kind = await _upload(admin_ui, definition_id, "notes.txt", b"Hello\n", "text/plain")
    assert wrong_kind.status_code == 422
    assert "“notes.txt” is neither CSV (.csv) nor JSON Lines" in wrong_kind.text
    no_file = await admin_ui.act("/runs/scenarios", {"definitionId": str(definition_id)})
    assert no_file.status_code == 422
    assert "Choose a CSV or JSON Lines file first." in no_file.text
    unknown = await _upload(admin_ui, 999, "cases.csv", b"One\n")
    assert unknown.status_code == 404 and "No definition with id 999." in unknown.text


async def test_a_viewer_is_refused(viewer_ui: UiClient, seeded_db: Database) -> None:
    definition_id = await _definition(seeded_db)
    response = await _upload(viewer_ui, definition_id, "cases.csv", b"One\nTwo\n")
    assert response.status_code == 403
    assert "admin" in response.text
    assert await _count(seeded_db, definition_id) == 2


async def test_the_csrf_token_is_required(admin_ui: UiClient, seeded_db: Database) -> None:
    definition_id = await _definition(seeded_db)
    forged = await _upload(admin_ui, definition_id, "cases.csv", b"One\n", csrf="forged")
    assert forged.status_code == 403
    assert "security token is missing or out of date" in forged.text
    # Without the header, the form's own field is checked, in the parsed multipart.
    without = await admin_ui.http.post(
        "/runs/scenarios",
        data={"definitionId": str(definition_id)},
        files={"scenarioFile": ("cases.csv", b"One\n", "text/csv")},
    )
    assert without.status_code == 403 and "security token is missing" in without.text
    in_form = await admin_ui.http.post(
        "/runs/scenarios",
        data={"definitionId": str(definition_id), CSRF_FIELD: admin_ui.csrf},
        files={"scenarioFile": ("cases.csv", b"One\n", "text/csv")},
    )
    assert in_form.status_code == 200, in_form.text
    assert await _count(seeded_db, definition_id) == 1


async def test_a_file_over_the_admin_body_limit_is_refused_with_413(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition_id = await _definition(seeded_db)
    content = b"x" * (ADMIN_BODY_LIMIT + 1)
    response = await _upload(admin_ui, definition_id, "huge.csv", content, "text/csv")
    assert response.status_code == 413
    assert response.text == "The request body is over 16 MiB (16,777,216 bytes)."
    assert await _count(seeded_db, definition_id) == 2

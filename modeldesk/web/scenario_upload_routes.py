"""Uploading a definition's scenarios as a file from `/runs/new` (SPEC 9.7, issue 16).

A 20,000-scenario definition does not fit a form field, so the page sends a
CSV or JSON Lines file, multipart, to the same service as the API's
`POST /definitions/<id>/scenarios`. Uploading replaces the definition's
scenarios, so it goes through a confirmation dialog first, as deprecating a
model or cancelling a run does, that says how many scenarios it replaces.

The body is bounded as the API upload's is: `request_limits` gives every admin
request, session or Bearer token alike, the admin body limit before the body is
read. The multipart form is parsed here with room for one file (the UI's other
forms take none) before the CSRF check, which then reads the parsed form.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from modeldesk.errors import ModeldeskError, ValidationError
from modeldesk.runs import (
    SCENARIO_FILE_TYPES,
    ScenarioFileFormat,
    get_definition,
    scenario_counts_by_definition_ids,
    upload_scenarios,
)
from modeldesk.web.dependencies import (
    MAX_FORM_FIELD_BYTES,
    MAX_FORM_FIELDS,
    Admin,
    Csrf,
    Db,
)
from modeldesk.web.new_run_routes import BUILDER, builder_context, picked_definition_id, run_form
from modeldesk.web.rendering import Flash, error_response, http_status, render

logger = logging.getLogger(__name__)

router = APIRouter()

FILE_FIELD = "scenarioFile"
RESULT = "runs/_scenario_upload_result.html"
CONFIRM = "runs/_scenario_upload_confirm.html"
OPEN_DIALOG = {"HX-Trigger-After-Settle": '{"openDialog": {"id": "scenario-upload-dialog"}}'}
CLOSE_DIALOGS = {"HX-Trigger": "closeDialogs"}
# The name says what the file holds; browsers send .jsonl as application/octet-stream.
_FORMATS_BY_SUFFIX: dict[str, ScenarioFileFormat] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
}


async def upload_form(request: Request, user: Admin) -> FormData:
    """The multipart form with its one file, parsed after the role check; the CSRF
    check that follows reads this parse (Starlette keeps a request's form)."""
    return await request.form(
        max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_FIELD_BYTES
    )


UploadForm = Annotated[FormData, Depends(upload_form)]


def _chosen_file(form: FormData) -> UploadFile:
    chosen = form.get(FILE_FIELD)
    if not isinstance(chosen, UploadFile) or not chosen.filename:
        raise ValidationError("Choose a CSV or JSON Lines file first.", field=FILE_FIELD)
    return chosen


def _file_format(chosen: UploadFile) -> ScenarioFileFormat:
    name = chosen.filename or ""
    found = _FORMATS_BY_SUFFIX.get(PurePosixPath(name).suffix.lower())
    if found is None:
        media_type = (chosen.content_type or "").split(";")[0].strip().lower()
        found = SCENARIO_FILE_TYPES.get(media_type)
    if found is None:
        raise ValidationError(
            f"“{name[:100]}” is neither CSV (.csv) nor JSON Lines (.jsonl, .ndjson).",
            field=FILE_FIELD,
        )
    return found


@router.get("/runs/scenarios/confirm", include_in_schema=False)
async def confirm_upload(request: Request, db: Db, user: Admin) -> HTMLResponse:
    """The dialog that says what the upload replaces, for the definition picked now."""
    try:
        definition = await get_definition(db, picked_definition_id(run_form(request.query_params)))
    except ModeldeskError as exc:
        return error_response(request, exc)
    counts = await scenario_counts_by_definition_ids(db, [definition.id])
    context = {"definition": definition, "count": counts.get(definition.id, 0)}
    return render(request, CONFIRM, context, headers=OPEN_DIALOG)


@router.post("/runs/scenarios", include_in_schema=False)
async def upload(
    request: Request, db: Db, user: Admin, form: UploadForm, _csrf: Csrf
) -> HTMLResponse:
    """The outcome next to the file input; on success the builder is redrawn (as it was
    submitted) with the definition's new count, and the estimate follows."""
    state = run_form(form)
    try:
        definition_id = picked_definition_id(state)
        chosen = _chosen_file(form)
        file_format = _file_format(chosen)
        before = (await scenario_counts_by_definition_ids(db, [definition_id])).get(
            definition_id, 0
        )
        count = await upload_scenarios(db, user, definition_id, await chosen.read(), file_format)
    except ModeldeskError as exc:
        logger.info("UI scenario upload by %s refused: %s", user.name, exc)
        return render(
            request,
            RESULT,
            {"error": exc.message, "message": None},
            status_code=http_status(exc),
            flash=Flash(exc.message, "error"),
            headers=CLOSE_DIALOGS,
        )
    message = (
        f"{count:,} scenario{'s' if count != 1 else ''} stored; the definition had {before:,}."
    )
    builder = await builder_context(db, state)
    return render(
        request,
        RESULT,
        {"error": None, "message": message},
        also=[(BUILDER, {**builder, "oob": True})],
        flash=Flash(message),
        headers=CLOSE_DIALOGS,
    )

"""`/runs/new`: pick a definition (or write a simple one) and models, see the estimate, start.

The default models come pre-selected from `runs.default_models`, the same set a
run created without models would target, so the page never guesses a rule; and
a selection left empty goes to the service as it is, which targets those
defaults (or says why there are none), as it does for the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import ImmutableMultiDict

from modeldesk.db.session import Database
from modeldesk.errors import ModeldeskError, ValidationError
from modeldesk.input_rules import as_db_id
from modeldesk.runs import (
    MAX_SCENARIOS,
    clean_max_cost,
    create_definition,
    create_run,
    default_models,
    estimate_run_cost,
    get_definition,
    list_definitions,
    scenario_counts_by_definition_ids,
    set_definition_rubric,
)
from modeldesk.web.dependencies import Admin, Csrf, Db, User, app_context, read_form
from modeldesk.web.models_view import selectable_choices
from modeldesk.web.rendering import Flash, form_errors, form_refused, html, render

router = APIRouter()

BUILDER = "runs/_builder.html"
SCENARIO_UPLOAD = "runs/_scenario_upload.html"
DEFINITION_FORM = "runs/_definition_form.html"
DEFINITION_FIELDS = ("name", "preamble", "template", "scenarios", "rubric")


@dataclass(frozen=True)
class RunForm:
    """The builder's state: what was submitted, or the defaults on a fresh page."""

    definition_id: str
    # Model database ids, as the checkboxes send them.
    models: tuple[str, ...]
    sample_percentage: str
    # The budget cap in USD as typed; empty for none.
    max_cost: str = ""
    # The definition's rubric as edited, and "judge the answers"; None when not on the form.
    rubric: str | None = None
    summarize: bool | None = None


async def _preselected(db: Database) -> tuple[str, ...]:
    try:
        return tuple(str(target.model.id) for target in await default_models(db))
    except ValidationError:
        return ()  # no provider has both a key and a default: the user picks


async def builder_context(
    db: Database, form: RunForm | None = None, **extra: Any
) -> dict[str, Any]:
    definitions = await list_definitions(db)
    counts = await scenario_counts_by_definition_ids(db, [d.id for d in definitions])
    if form is None:
        first = str(definitions[0].id) if definitions else ""
        form = RunForm(first, await _preselected(db), "100")
    return {
        "definitions": definitions,
        "scenario_counts": counts,
        "choices": await selectable_choices(db),
        "form": form,
        "errors": {},
        "form_error": None,
        **extra,
    }


def _definition_form(values: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"values": values or {}, "errors": {}, "form_error": None, "open": False, **extra}


def run_form(data: ImmutableMultiDict[str, Any]) -> RunForm:
    """The builder's fields, from the estimate's query, the submitted form or a scenario
    upload (which carries them to redraw the builder as it was) alike."""
    models = [value for value in data.getlist("models") if isinstance(value, str)]
    return RunForm(
        str(data.get("definitionId") or ""),
        tuple(dict.fromkeys(models)),
        str(data.get("samplePercentage") or ""),
        str(data.get("maxCost") or "").strip(),
        str(data.get("rubric") or "") if "rubric" in data else None,
        "summarize" in data if "summarizeShown" in data else None,
    )


def picked_definition_id(form: RunForm) -> int:
    definition_id = as_db_id(form.definition_id)
    if definition_id is None:
        raise ValidationError("Pick a definition.", field="definitionId")
    return definition_id


@router.get("/runs/new", include_in_schema=False)
async def new_run_page(request: Request, db: Db, user: User) -> HTMLResponse:
    context = await builder_context(db)
    context.update(
        section="runs",
        definition_form=_definition_form(open=not context["definitions"]),
        max_scenarios=MAX_SCENARIOS,
    )
    return render(request, "runs/new.html", context)


@router.get("/runs/estimate", include_in_schema=False)
async def estimate(request: Request, db: Db, user: User) -> HTMLResponse:
    form = run_form(request.query_params)
    try:
        result = await estimate_run_cost(
            db,
            picked_definition_id(form),
            list(form.models),
            form.sample_percentage or None,
            settings=app_context(request).settings,
            summarize=form.summarize,
        )
        cap = clean_max_cost(form.max_cost or None)
    except ModeldeskError as exc:
        return render(request, "runs/_estimate.html", {"estimate": None, "error": exc.message})
    context = {
        "estimate": result,
        "error": None,
        "max_cost": cap,
        "defaults_targeted": not form.models,
    }
    return render(request, "runs/_estimate.html", context)


@router.post("/runs", include_in_schema=False)
async def start_run(request: Request, db: Db, user: Admin, _csrf: Csrf) -> Response:
    form = run_form(await read_form(request))
    try:
        if form.rubric is not None:  # saved on the definition, for this run and later ones
            await set_definition_rubric(db, user, picked_definition_id(form), form.rubric)
        run = await create_run(
            db,
            user,
            picked_definition_id(form),
            list(form.models),
            form.sample_percentage or None,
            max_cost=form.max_cost or None,
            summarize=form.summarize,
        )
    except ModeldeskError as exc:
        context = await builder_context(db, form, **form_errors(exc))
        return form_refused(request, BUILDER, context, exc)
    # A new page, not a swap: the run's own page is where it is watched.
    return html("", headers={"HX-Redirect": f"/runs/{run.id}?created=1"})


@router.post("/runs/definitions", include_in_schema=False)
async def add_definition(request: Request, db: Db, user: Admin, _csrf: Csrf) -> HTMLResponse:
    raw = await read_form(request)
    values = {name: str(raw.get(name) or "") for name in DEFINITION_FIELDS}
    lines = [line for line in values["scenarios"].splitlines() if line.strip()]
    try:
        definition = await create_definition(
            db,
            user,
            name=values["name"],
            template=values["template"],
            preamble=values["preamble"],
            scenarios=lines,
            rubric=values["rubric"],
        )
    except ModeldeskError as exc:
        context = _definition_form(values, **form_errors(exc), open=True)
        return form_refused(request, DEFINITION_FORM, context, exc)
    builder = await builder_context(db)
    builder["form"] = RunForm(str(definition.id), builder["form"].models, "100")
    count = builder["scenario_counts"][definition.id]
    # The first definition turns the upload card's hint into its form; a later one
    # leaves the card (and a file picked in it) alone.
    upload_card = (
        [(SCENARIO_UPLOAD, {**builder, "max_scenarios": MAX_SCENARIOS, "oob": True})]
        if len(builder["definitions"]) == 1
        else []
    )
    return render(
        request,
        DEFINITION_FORM,
        _definition_form(),
        also=[(BUILDER, {**builder, "oob": True}), *upload_card],
        flash=Flash(f"Definition “{definition.name}” created with {count} scenario(s)."),
    )


@router.get("/runs/rubric", include_in_schema=False)
async def rubric_fields(request: Request, db: Db, user: User) -> HTMLResponse:
    """The picked definition's rubric, and judging on by default when it has one."""
    definition_id = as_db_id(request.query_params.get("definitionId"))
    rubric = None
    if definition_id is not None:
        try:
            rubric = (await get_definition(db, definition_id)).rubric
        except ModeldeskError:
            rubric = None  # a definition deleted meanwhile: the builder reports it on submit
    context: dict[str, Any] = {"rubric": rubric, "summarize": rubric is not None, "errors": {}}
    # The estimate follows whether the answers are judged (see _builder.html).
    return render(
        request,
        "runs/_rubric_fields.html",
        context,
        headers={"HX-Trigger-After-Swap": "rubric-shown"},
    )

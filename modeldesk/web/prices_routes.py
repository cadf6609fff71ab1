"""Settings > Prices: the reference's price proposals, reviewed and applied by an admin;
and the reference's models offered by the Add model dialog.

Handlers call `catalog.price_proposals` and `catalog.reference_catalog`, as the
API and the CLI do; viewers see the proposals read-only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.catalog import (
    PART_LABELS,
    PRICE_PARTS,
    PriceReview,
    apply_price_proposals,
    describe_part,
    list_providers,
    provider_reference,
    reference_model_for,
    review_prices,
)
from modeldesk.db.session import Database
from modeldesk.errors import ModeldeskError, ValidationError
from modeldesk.input_rules import as_db_id
from modeldesk.web.dependencies import Admin, Csrf, Db, User, app_context, read_form
from modeldesk.web.models_routes import ADD_FIELDS, _add_form_context
from modeldesk.web.price_form import PRICE_INPUTS, price_values
from modeldesk.web.rendering import Flash, error_response, render

router = APIRouter()

TABLE = "prices/_proposals.html"
MAX_SELECTED = 1000
REFERENCE_INPUT = "referenceModel"


async def _review(request: Request, db: Database) -> PriceReview:
    return await review_prices(db, app_context(request).settings)


def _table_context(review: PriceReview) -> dict[str, Any]:
    return {
        "review": review,
        "parts": PRICE_PARTS,
        "labels": PART_LABELS,
        "describe": describe_part,
    }


@router.get("/settings/prices", include_in_schema=False)
async def prices_page(request: Request, db: Db, user: User) -> HTMLResponse:
    try:
        review = await _review(request, db)
    except ModeldeskError as exc:
        return error_response(request, exc)
    return render(request, "prices/page.html", {"section": "prices", **_table_context(review)})


@router.post("/settings/prices/apply", include_in_schema=False)
async def apply_selected(request: Request, db: Db, user: Admin, _csrf: Csrf) -> HTMLResponse:
    selected = (await read_form(request)).getlist("modelIds")
    try:
        if not selected:
            raise ValidationError("Select at least one model to apply its proposal.")
        if len(selected) > MAX_SELECTED:
            raise ValidationError(f"Select at most {MAX_SELECTED} models at once.")
        ids = [as_db_id(value) for value in selected]
        model_ids = [model_id for model_id in ids if model_id is not None]
        if len(model_ids) != len(ids):
            raise ValidationError("The selection names a model that does not exist.")
        settings = app_context(request).settings
        applied = await apply_price_proposals(db, user, settings, model_ids)
    except ModeldeskError as exc:
        return error_response(request, exc)
    names = ", ".join(proposal.identifier for proposal in applied)
    source = f"{applied[0].source} {applied[0].source_version}"
    message = f"Applied the reference prices ({source}) to {names}: new prices from now on."
    return render(request, TABLE, _table_context(await _review(request, db)), flash=Flash(message))


@router.get("/settings/models/reference-options", include_in_schema=False)
async def reference_options(request: Request, db: Db, user: User) -> HTMLResponse:
    """The reference's models of the chosen provider, for the Add model dialog's search."""
    provider_id = as_db_id(request.query_params.get("providerId"))
    try:
        user.require_admin("adding a model")
        if provider_id is None:
            raise ValidationError("Choose a provider.", field="providerId")
        found = await provider_reference(db, app_context(request).settings, provider_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    return render(request, "prices/_reference_options.html", {"found": found})


@router.get("/settings/models/reference-fill", include_in_schema=False)
async def reference_fill(request: Request, db: Db, user: User) -> HTMLResponse:
    """The Add model form again, filled from the reference model picked; still editable."""
    query = request.query_params
    names = (*ADD_FIELDS, *PRICE_INPUTS, REFERENCE_INPUT)
    values = {name: query.get(name, "") for name in names}
    provider_id = as_db_id(values["providerId"])
    try:
        user.require_admin("adding a model")
        if provider_id is None:
            raise ValidationError("Choose a provider.", field="providerId")
        found = await reference_model_for(
            db, app_context(request).settings, provider_id, values[REFERENCE_INPUT]
        )
    except ModeldeskError as exc:
        return error_response(request, exc)
    assert found.prices is not None  # reference_model_for refuses unrepresentable prices
    values.update(
        modelId=values[REFERENCE_INPUT], displayName=found.name, **price_values(found.prices)
    )
    context = _add_form_context(await list_providers(db), values)
    flash = Flash(
        f"Filled from the reference's {found.provider_id}/{found.model_id}; review, then Save.",
        "success",
    )
    return render(request, "models/_add_form.html", context, flash=flash)

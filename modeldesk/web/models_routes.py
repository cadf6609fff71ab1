"""Settings > Models: the page, and each model action answered with its provider's card.

Every action re-renders the whole card, not just a row, because a default moving
(deprecate, set as default, add with "set as default") changes other rows too.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.catalog import (
    ModelCreate,
    ModelUpdate,
    create_model,
    default_successor,
    deprecate_model,
    get_model,
    get_provider,
    list_providers,
    price_history_by_model_ids,
    quote_of,
    reactivate_model,
    set_default_model,
    update_model,
)
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.errors import ModeldeskError
from modeldesk.web.dependencies import Admin, Csrf, Db, PathId, User
from modeldesk.web.forms import form_values, ticked
from modeldesk.web.models_view import ProviderCard, provider_card, provider_cards
from modeldesk.web.price_form import (
    CACHE_WRITE_INPUT,
    PRICE_INPUTS,
    differing_model_ids,
    price_values,
    tier_from_form,
)
from modeldesk.web.rendering import Flash, error_response, form_errors, form_refused, render

router = APIRouter()

ADD_FIELDS = (
    "providerId",
    "modelId",
    "displayName",
    "costInputPerMillion",
    "costOutputPerMillion",
    "costCachedInputPerMillion",
    "setAsDefault",
    *PRICE_INPUTS,
)
EDIT_FIELDS = (
    "displayName",
    "costInputPerMillion",
    "costOutputPerMillion",
    "costCachedInputPerMillion",
    *PRICE_INPUTS,
)
CARD = "models/_provider_card.html"
CLOSE_DIALOGS = {"HX-Trigger": "closeDialogs"}
OPEN_MODEL_DIALOG = {"HX-Trigger-After-Settle": json.dumps({"openDialog": {"id": "model-dialog"}})}


def _card_fragment(card: ProviderCard) -> tuple[str, dict[str, Any]]:
    return CARD, {"card": card, "oob": True}


def _add_form_context(
    providers: list[LlmProvider], values: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "providers": providers,
        "values": values or {},
        "errors": {},
        "form_error": None,
        **extra,
    }


def _edit_values(model: LlmModel) -> dict[str, str]:
    return {"displayName": model.display_name, **price_values(quote_of(model))}


async def _edit_form_context(
    db: Database, model: LlmModel, values: dict[str, str], **extra: Any
) -> dict[str, Any]:
    history = await price_history_by_model_ids(db, [model.id])
    return {
        "model": model,
        "provider": await get_provider(db, model.provider_id),
        "history": history.get(model.id, []),
        "values": values,
        "errors": {},
        "form_error": None,
        **extra,
    }


@router.get("/settings/models", include_in_schema=False)
async def models_page(request: Request, db: Db, user: User) -> HTMLResponse:
    cards = await provider_cards(db)
    context: dict[str, Any] = {"section": "models", "cards": cards}
    if user.is_admin:
        context["add_form"] = _add_form_context([card.provider for card in cards])
    context["price_differs"] = await differing_model_ids(request, db)
    return render(request, "models/page.html", context)


@router.post("/settings/models", include_in_schema=False)
async def add_model(request: Request, db: Db, user: Admin, _csrf: Csrf) -> HTMLResponse:
    values = await form_values(request, *ADD_FIELDS)
    try:
        model = await create_model(
            db,
            user,
            ModelCreate.parse(
                provider_id=values["providerId"],
                model_id=values["modelId"],
                display_name=values["displayName"],
                cost_input_per_million=values["costInputPerMillion"],
                cost_output_per_million=values["costOutputPerMillion"],
                set_as_default=ticked(values, "setAsDefault"),
                cost_cached_input_per_million=values["costCachedInputPerMillion"],
                cost_cache_write_per_million=values[CACHE_WRITE_INPUT],
                long_context_tier=tier_from_form(values),
            ),
        )
    except ModeldeskError as exc:
        context = _add_form_context(await list_providers(db), values, **form_errors(exc))
        return form_refused(request, "models/_add_form.html", context, exc)
    card = await provider_card(db, model.provider_id)
    message = f"Added {model.display_name} ({model.model_id}) to {card.provider.display_name}."
    if model.is_default:
        message += " It is now the provider's default."
    return render(
        request,
        "models/_add_form.html",
        _add_form_context(await list_providers(db)),
        flash=Flash(message),
        also=[_card_fragment(card)],
        headers=CLOSE_DIALOGS,
    )


@router.get("/settings/models/{model_id}/edit", include_in_schema=False)
async def edit_model_form(request: Request, db: Db, user: User, model_id: PathId) -> HTMLResponse:
    try:
        user.require_admin("editing a model")
        model = await get_model(db, model_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    context = await _edit_form_context(db, model, _edit_values(model))
    return render(request, "models/_edit_form.html", context, headers=OPEN_MODEL_DIALOG)


@router.post("/settings/models/{model_id}", include_in_schema=False)
async def edit_model(
    request: Request, db: Db, user: Admin, _csrf: Csrf, model_id: PathId
) -> HTMLResponse:
    values = await form_values(request, *EDIT_FIELDS)
    try:
        model = await update_model(
            db,
            user,
            model_id,
            ModelUpdate.parse(
                display_name=values["displayName"],
                cost_input_per_million=values["costInputPerMillion"],
                cost_output_per_million=values["costOutputPerMillion"],
                cost_cached_input_per_million=values["costCachedInputPerMillion"],
                cost_cache_write_per_million=values[CACHE_WRITE_INPUT],
                # The form always shows the tier: left empty, it is removed.
                long_context_tier=tier_from_form(values),
                clear_long_context_tier=True,
            ),
        )
    except ModeldeskError as exc:
        try:
            current = await get_model(db, model_id)
        except ModeldeskError:
            return error_response(request, exc)
        context = await _edit_form_context(db, current, values, **form_errors(exc))
        return form_refused(request, "models/_edit_form.html", context, exc)
    card = await provider_card(db, model.provider_id)
    return render(
        request,
        "models/_edit_form.html",
        await _edit_form_context(db, model, _edit_values(model)),
        flash=Flash(f"Saved {model.display_name} ({model.model_id})."),
        also=[_card_fragment(card)],
        headers=CLOSE_DIALOGS,
    )


@router.get("/settings/models/{model_id}/deprecate", include_in_schema=False)
async def deprecate_confirm(request: Request, db: Db, user: User, model_id: PathId) -> HTMLResponse:
    try:
        user.require_admin("deprecating a model")
        model = await get_model(db, model_id)
        provider = await get_provider(db, model.provider_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    successor = await default_successor(db, model) if model.is_default else None
    return render(
        request,
        "models/_deprecate_confirm.html",
        {"model": model, "provider": provider, "successor": successor},
        headers=OPEN_MODEL_DIALOG,
    )


@router.post("/settings/models/{model_id}/deprecate", include_in_schema=False)
async def deprecate(
    request: Request, db: Db, user: Admin, _csrf: Csrf, model_id: PathId
) -> HTMLResponse:
    try:
        result = await deprecate_model(db, user, model_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    card = await provider_card(db, result.model.provider_id)
    name, provider = result.model.display_name, card.provider.display_name
    if result.new_default is not None:
        flash = Flash(
            f"{name} is deprecated. The default for {provider} moved to "
            f"{result.new_default.display_name} ({result.new_default.model_id})."
        )
    elif result.was_default:
        flash = Flash(
            f"{name} is deprecated. {provider} now has no default model: no active model is left.",
            "warning",
        )
    else:
        flash = Flash(f"{name} is deprecated: hidden from new runs, kept for history.")
    return render(request, CARD, {"card": card}, flash=flash, headers=CLOSE_DIALOGS)


@router.post("/settings/models/{model_id}/reactivate", include_in_schema=False)
async def reactivate(
    request: Request, db: Db, user: Admin, _csrf: Csrf, model_id: PathId
) -> HTMLResponse:
    try:
        model = await reactivate_model(db, user, model_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    card = await provider_card(db, model.provider_id)
    message = f"{model.display_name} is active again and offered for new runs."
    if card.default_model is None:
        message += f" {card.provider.display_name} still has no default: use Set as default."
    return render(request, CARD, {"card": card}, flash=Flash(message))


@router.post("/settings/models/{model_id}/default", include_in_schema=False)
async def make_default(
    request: Request, db: Db, user: Admin, _csrf: Csrf, model_id: PathId
) -> HTMLResponse:
    try:
        result = await set_default_model(db, user, model_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    card = await provider_card(db, result.model.provider_id)
    message = f"{result.model.display_name} is now the default for {card.provider.display_name}"
    previous = result.previous_default
    if previous is not None and previous.id != result.model.id:
        message += f" (previously {previous.display_name})"
    return render(request, CARD, {"card": card}, flash=Flash(message + "."))

"""Settings > Infrastructure: which model does each internal task, and which is in effect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.catalog import (
    INFRA_PURPOSES,
    InfraModelResolution,
    choose_infra_model,
    infra_model_label,
    infra_setting_key,
    list_settings,
    selectable_models,
    set_infra_model,
)
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.errors import ModeldeskError, ValidationError
from modeldesk.web.dependencies import Admin, Csrf, Db, User
from modeldesk.web.forms import form_values
from modeldesk.web.models_view import ProviderChoices, group_choices
from modeldesk.web.rendering import Flash, error_response, form_refused, render

router = APIRouter()

PURPOSE_LABELS = {
    "scenario_expansion": "Scenario expansion",
    "summarization": "Summarization",
    "analysis": "Analysis",
}
CARD = "infra/_purpose.html"


@dataclass(frozen=True)
class PurposeView:
    purpose: str
    label: str
    # The setting as "provider/model_id" ("" when unset); kept apart from the
    # resolution because it must still show when no model resolves at all.
    configured_value: str
    resolution: InfraModelResolution | None
    # Why nothing can do this task at all; None when a model resolved.
    unresolved: str | None


@dataclass(frozen=True)
class InfraPage:
    views: dict[str, PurposeView]
    # The models a purpose may be set to, grouped for the selects.
    groups: list[ProviderChoices]


def _purpose_view(
    purpose: str,
    configured: dict[str, Any] | None,
    candidates: list[tuple[LlmModel, LlmProvider]],
) -> PurposeView:
    label, shown = PURPOSE_LABELS[purpose], infra_model_label(configured)
    try:
        resolution = choose_infra_model(purpose, configured, candidates)
    except ModeldeskError as exc:
        return PurposeView(purpose, label, shown, None, exc.message)
    return PurposeView(purpose, label, shown, resolution, None)


async def _infra_page(db: Database) -> InfraPage:
    """Every purpose from two reads (the settings, the selectable models).

    Decided with `choose_infra_model`, not `resolve_infra_model`: showing a
    fallback is not using one, so viewing the page logs no error.
    """
    settings = {setting.key: setting.value for setting in await list_settings(db)}
    candidates = await selectable_models(db)
    views = {
        purpose: _purpose_view(purpose, settings.get(infra_setting_key(purpose)), candidates)
        for purpose in INFRA_PURPOSES
    }
    return InfraPage(views, group_choices(candidates))


@router.get("/settings/infrastructure", include_in_schema=False)
async def infrastructure_page(request: Request, db: Db, user: User) -> HTMLResponse:
    page = await _infra_page(db)
    return render(
        request,
        "infra/page.html",
        {"section": "infrastructure", "views": list(page.views.values()), "groups": page.groups},
    )


@router.post("/settings/infrastructure/{purpose}", include_in_schema=False)
async def save_infra_model(
    request: Request, db: Db, user: Admin, _csrf: Csrf, purpose: str
) -> HTMLResponse:
    chosen = (await form_values(request, "model"))["model"]
    try:
        await set_infra_model(db, user, purpose, chosen)
    except ModeldeskError as exc:
        if not isinstance(exc, ValidationError) or purpose not in INFRA_PURPOSES:
            return error_response(request, exc)
        page = await _infra_page(db)
        context = {"view": page.views[purpose], "groups": page.groups, "error": exc.message}
        return form_refused(request, CARD, context, exc)
    page = await _infra_page(db)
    view = page.views[purpose]
    message = f"{view.label} now uses {chosen}."
    kind = "success"
    if view.resolution is not None and view.resolution.is_fallback:
        resolved = view.resolution
        message += (
            f" It cannot be used yet ({resolved.reason}), so "
            f"{resolved.provider.name}/{resolved.model.model_id} stands in."
        )
        kind = "warning"
    elif view.resolution is None:
        message += f" No model can do this task yet: {view.unresolved}"
        kind = "warning"
    return render(
        request,
        CARD,
        {"view": view, "groups": page.groups},
        flash=Flash(message, kind),
    )

"""Settings > Infrastructure: which model does each internal task, and which is in effect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.catalog import (
    INFRA_PURPOSES,
    InfraModelResolution,
    get_setting,
    infra_setting_key,
    resolve_infra_model,
    update_setting,
)
from modeldesk.db.session import Database
from modeldesk.errors import ModeldeskError, NotFoundError, ValidationError
from modeldesk.web.dependencies import Csrf, Db, User
from modeldesk.web.forms import form_values
from modeldesk.web.models_view import selectable_choices
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
    configured: dict[str, Any] | None
    resolution: InfraModelResolution | None
    # Why nothing can do this task at all; None when a model resolved.
    unresolved: str | None

    @property
    def configured_value(self) -> str:
        if not self.configured:
            return ""
        return f"{self.configured.get('providerName')}/{self.configured.get('modelId')}"


async def _purpose_view(db: Database, purpose: str) -> PurposeView:
    try:
        configured = (await get_setting(db, infra_setting_key(purpose))).value
    except NotFoundError:
        configured = None
    try:
        resolution: InfraModelResolution | None = await resolve_infra_model(db, purpose)
        unresolved = None
    except ModeldeskError as exc:
        resolution, unresolved = None, exc.message
    return PurposeView(purpose, PURPOSE_LABELS[purpose], configured, resolution, unresolved)


@router.get("/settings/infrastructure", include_in_schema=False)
async def infrastructure_page(request: Request, db: Db, user: User) -> HTMLResponse:
    views = [await _purpose_view(db, purpose) for purpose in INFRA_PURPOSES]
    return render(
        request,
        "infra/page.html",
        {"section": "infrastructure", "views": views, "groups": await selectable_choices(db)},
    )


@router.post("/settings/infrastructure/{purpose}", include_in_schema=False)
async def save_infra_model(
    request: Request, db: Db, user: User, _csrf: Csrf, purpose: str
) -> HTMLResponse:
    chosen = (await form_values(request, "model"))["model"]
    # Options are "provider/model_id"; a provider name never holds a "/", a model id may.
    provider_name, _, model_id = chosen.partition("/")
    try:
        key = infra_setting_key(purpose)
        await update_setting(db, user, key, {"providerName": provider_name, "modelId": model_id})
    except ModeldeskError as exc:
        if not isinstance(exc, ValidationError) or purpose not in INFRA_PURPOSES:
            return error_response(request, exc)
        view = await _purpose_view(db, purpose)
        context = {"view": view, "groups": await selectable_choices(db), "error": exc.message}
        return form_refused(request, CARD, context, exc)
    view = await _purpose_view(db, purpose)
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
        {"view": view, "groups": await selectable_choices(db)},
        flash=Flash(message, kind),
    )

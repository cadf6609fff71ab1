"""A provider's live settings (limits, enabled, base URL), saved from its card."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.catalog import ProviderUpdate, update_provider
from modeldesk.errors import ModeldeskError
from modeldesk.web.dependencies import Csrf, Db, User
from modeldesk.web.forms import form_values, ticked
from modeldesk.web.models_view import provider_card
from modeldesk.web.rendering import Flash, error_response, field_errors, form_refused, render

router = APIRouter()

PROVIDER_FIELDS = ("maxParallelRequests", "requestsPerMinute", "isEnabled", "baseUrl")
CARD = "models/_provider_card.html"


@router.post("/settings/providers/{provider_id}", include_in_schema=False)
async def save_provider(
    request: Request, db: Db, user: User, _csrf: Csrf, provider_id: int
) -> HTMLResponse:
    values = await form_values(request, *PROVIDER_FIELDS)
    try:
        provider = await update_provider(
            db,
            user,
            provider_id,
            ProviderUpdate.parse(
                max_parallel_requests=values["maxParallelRequests"],
                requests_per_minute=values["requestsPerMinute"],
                is_enabled=ticked(values, "isEnabled"),
                base_url=values["baseUrl"],
            ),
        )
    except ModeldeskError as exc:
        errors = field_errors(exc)
        if not errors:
            return error_response(request, exc)
        card = await provider_card(db, provider_id)
        context = {"card": card, "provider_values": values, "provider_errors": errors}
        return form_refused(request, CARD, context, exc)
    card = await provider_card(db, provider.id)
    state = "enabled" if provider.is_enabled else "disabled: its queued jobs wait"
    message = (
        f"Saved {provider.display_name}: max parallel {provider.max_parallel_requests}, "
        f"{provider.requests_per_minute} req/min, {state}."
    )
    kind = "success"
    if provider.max_parallel_requests == 0:
        message += " Max parallel 0 is treated as 1."
        kind = "warning"
    return render(request, CARD, {"card": card}, flash=Flash(message, kind))

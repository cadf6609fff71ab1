"""A provider's live settings (limits, enabled, base URL, default prices), saved from its card."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.catalog import ProviderUpdate, effective_max_parallel, update_provider
from modeldesk.errors import ModeldeskError
from modeldesk.web.dependencies import Admin, Csrf, Db, PathId
from modeldesk.web.forms import form_values, ticked
from modeldesk.web.models_view import provider_card
from modeldesk.web.rendering import (
    Flash,
    error_response,
    field_errors,
    form_refused,
    format_usd,
    render,
)

router = APIRouter()


def _price_or_fallback(price: Decimal | None) -> str:
    return "the server's fallback" if price is None else format_usd(price)


PROVIDER_FIELDS = (
    "maxParallelRequests",
    "requestsPerMinute",
    "isEnabled",
    "baseUrl",
    "defaultCostInputPerMillion",
    "defaultCostOutputPerMillion",
    "referenceProvider",
)
CARD = "models/_provider_card.html"


@router.post("/settings/providers/{provider_id}", include_in_schema=False)
async def save_provider(
    request: Request, db: Db, user: Admin, _csrf: Csrf, provider_id: PathId
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
                default_input_price=values["defaultCostInputPerMillion"],
                default_output_price=values["defaultCostOutputPerMillion"],
                reference_provider=values["referenceProvider"],
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
    if provider.default_input_price is not None or provider.default_output_price is not None:
        message += (
            " Its models without a price are charged "
            f"{_price_or_fallback(provider.default_input_price)} input and "
            f"{_price_or_fallback(provider.default_output_price)} output per 1M tokens."
        )
    kind = "success"
    configured = provider.max_parallel_requests
    if effective_max_parallel(configured) != configured:
        message += f" Max parallel {configured} is treated as {effective_max_parallel(configured)}."
        kind = "warning"
    return render(request, CARD, {"card": card}, flash=Flash(message, kind))

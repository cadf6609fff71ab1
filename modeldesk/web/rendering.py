"""Turning templates and service errors into responses.

Every handler answers through these helpers, so an error always looks the same:
htmx requests get the message in the page's status region (and field errors
next to their inputs), full page loads get an error page with the right status.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from modeldesk.enums import ACTIVE_RUN_STATUSES, InfraWorkStatus, RunStatus, TranscriptStatus
from modeldesk.errors import ErrorCode, ModeldeskError, ValidationError
from modeldesk.web.session import csrf_token_for

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"

# The UI loads nothing from elsewhere and runs no inline script or style.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_HTTP_STATUS = {
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.MODEL_NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.MODEL_DEPRECATED: 409,
    ErrorCode.PROVIDER_DISABLED: 409,
    ErrorCode.UNAVAILABLE: 503,
}


@dataclass(frozen=True)
class Flash:
    """A one-line outcome shown in the status region; `kind` is success, warning or error."""

    message: str
    kind: str = "success"


def format_usd(value: Decimal | float | int | None, max_places: int = 6) -> str:
    """Dollars with at least 2 decimals and no more than needed (up to `max_places`)."""
    if value is None:
        return "—"
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-max_places), ROUND_HALF_UP)
    text = f"{amount:f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"${whole}.{fraction}"


def format_time(value: datetime | None) -> str:
    """Times in UTC, to the second: operators compare them across machines and logs."""
    if value is None:
        return "—"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _asset_version() -> str:
    digest = hashlib.sha256()
    for name in ("app.css", "app.js", "htmx.min.js"):
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:10]


ENV = Environment(
    loader=FileSystemLoader(WEB_DIR / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["usd"] = format_usd
ENV.filters["when"] = format_time
ENV.globals["asset_version"] = _asset_version()
# Templates compare states by the enums, as the services do, never by spelling them.
ENV.globals.update(
    ACTIVE_RUN_STATUSES=ACTIVE_RUN_STATUSES,
    InfraWorkStatus=InfraWorkStatus,
    RunStatus=RunStatus,
    TranscriptStatus=TranscriptStatus,
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render_string(request: Request, template: str, context: dict[str, Any] | None = None) -> str:
    secret = getattr(request.state, "session_secret", None)
    values = {
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token_for(secret) if secret else "",
        **(context or {}),
    }
    return ENV.get_template(template).render(values)


def html(
    body: str, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    return HTMLResponse(
        body, status_code=status_code, headers={**_SECURITY_HEADERS, **(headers or {})}
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    flash: Flash | None = None,
    headers: dict[str, str] | None = None,
    also: Sequence[tuple[str, dict[str, Any]]] = (),
) -> HTMLResponse:
    """A page or fragment, then the `also` fragments (meant to swap out of band),
    then, with `flash`, the status region, out of band too."""
    body = render_string(request, template, context)
    for extra_template, extra_context in also:
        body += render_string(request, extra_template, extra_context)
    if flash is not None:
        body += render_string(request, "_status.html", {"flash": flash, "oob": True})
    return html(body, status_code=status_code, headers=headers)


def http_status(exc: ModeldeskError) -> int:
    return _HTTP_STATUS.get(exc.code, 400)


def field_errors(exc: ModeldeskError) -> dict[str, str]:
    """The message keyed by the input at fault, for showing next to that input.

    An item of a list ("scenarios[3]") is reported on the list's input ("scenarios").
    """
    if isinstance(exc, ValidationError) and exc.field:
        return {exc.field.split("[")[0]: exc.message}
    return {}


def form_errors(exc: ModeldeskError) -> dict[str, Any]:
    """A refused form's messages: by the field at fault, or on top of the form."""
    errors = field_errors(exc)
    return {"errors": errors, "form_error": None if errors else exc.message}


def form_refused(
    request: Request, template: str, context: dict[str, Any], exc: ModeldeskError
) -> HTMLResponse:
    """The form again, as submitted and with its errors, and the message in the status region."""
    logger.info("UI form %s %s refused: %s", request.method, request.url.path, exc)
    return render(
        request,
        template,
        context,
        status_code=http_status(exc),
        flash=Flash(exc.message, "error"),
    )


def error_response(
    request: Request, exc: ModeldeskError, status: int | None = None
) -> HTMLResponse:
    """The service's refusal, in the status region (htmx) or as an error page; `status`
    overrides the one its code maps to."""
    status = status or http_status(exc)
    logger.info("UI request %s %s refused: %s", request.method, request.url.path, exc)
    if is_htmx(request):
        return render(
            request,
            "_status.html",
            {"flash": Flash(exc.message, "error"), "oob": False},
            status_code=status,
            headers={"HX-Retarget": "#status", "HX-Reswap": "innerHTML"},
        )
    return render(request, "error.html", {"error": exc, "status": status}, status_code=status)

"""The admin web UI: server-rendered pages with htmx, over the same services as the API.

Handlers call `modeldesk.catalog`, `modeldesk.runs` and `modeldesk.auth` and hold
no business rules; refusals come back as the services' typed errors.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from modeldesk.context import AppContext
from modeldesk.errors import ForbiddenError
from modeldesk.web import (
    audit_routes,
    auth_routes,
    infra_routes,
    models_routes,
    new_run_routes,
    providers_routes,
    runs_routes,
)
from modeldesk.web.dependencies import CsrfRefused, SignInRequired, login_url
from modeldesk.web.rendering import STATIC_DIR, error_response, is_htmx


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = login_url(exc.next_path if request.method == "GET" else "/settings/models")
    if is_htmx(request):
        # htmx follows HX-Redirect with a full page load, whatever the status.
        return PlainTextResponse("Sign in again.", status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    message = "The form's security token is missing or out of date. Reload the page and try again."
    return error_response(request, ForbiddenError(message))


def mount_web(app: FastAPI, context: AppContext) -> None:
    app.state.context = context
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        auth_routes,
        models_routes,
        providers_routes,
        infra_routes,
        new_run_routes,
        runs_routes,
        audit_routes,
    ):
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)

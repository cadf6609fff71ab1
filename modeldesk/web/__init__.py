"""The admin web UI: server-rendered pages with htmx, over the same services as the API.

Handlers call `modeldesk.catalog`, `modeldesk.runs` and `modeldesk.auth` and hold
no business rules; refusals come back as the services' typed errors.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from modeldesk.context import AppContext
from modeldesk.errors import ForbiddenError, NotFoundError, ValidationError
from modeldesk.web import (
    audit_routes,
    auth_routes,
    export_routes,
    fleet_routes,
    infra_routes,
    models_routes,
    new_run_routes,
    prices_routes,
    providers_routes,
    run_control_routes,
    runs_routes,
    scenario_upload_routes,
    spend_routes,
)
from modeldesk.web.dependencies import CsrfRefused, SignInRequired, login_url
from modeldesk.web.rendering import STATIC_DIR, error_response, is_htmx
from modeldesk.web.row_ids import CHECK_ROW_IDS, answer_impossible_row_ids_with_404
from modeldesk.web.unavailable import answer_unavailable_with_503


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = login_url(exc.next_path if request.method == "GET" else "/settings/models")
    if is_htmx(request):
        # htmx follows HX-Redirect with a full page load, whatever the status.
        return PlainTextResponse("Sign in again.", status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    """A viewer at an admin-only handler (`dependencies.Admin`): 403 before any input is read."""
    assert isinstance(exc, ForbiddenError)
    return error_response(request, exc)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A path or query number no row or page can have (`dependencies.PathId`, `PageNumber`):
    no such page (404) for a path, a bad request (400) for a query, never a crash."""
    assert isinstance(exc, RequestValidationError)
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return error_response(request, NotFoundError("There is no such page."))
    names = sorted({str(error["loc"][-1]) for error in exc.errors() if error.get("loc")})
    refusal = ValidationError(f"Out of range or not a number: {', '.join(names)[:100]}.")
    return error_response(request, refusal, status=400)


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
        prices_routes,
        infra_routes,
        new_run_routes,
        scenario_upload_routes,
        runs_routes,
        run_control_routes,
        export_routes,
        fleet_routes,
        spend_routes,
        audit_routes,
    ):
        app.include_router(module.router, dependencies=CHECK_ROW_IDS)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(RequestValidationError, _out_of_range)
    answer_unavailable_with_503(app)
    answer_impossible_row_ids_with_404(app)

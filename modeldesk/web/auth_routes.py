"""Sign-in (a token form, or the `/login?token=` URL that `serve` prints) and sign-out."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from modeldesk.auth import authenticate_token
from modeldesk.errors import UnauthenticatedError
from modeldesk.web.dependencies import Csrf, Db, User, safe_next
from modeldesk.web.rendering import render
from modeldesk.web.session import end_session, start_session

logger = logging.getLogger(__name__)

router = APIRouter()


def _login_page(
    request: Request, next_path: str, *, error: str | None = None, notice: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "login.html",
        {"next_path": safe_next(next_path), "error": error, "notice": notice},
        status_code=401 if error else 200,
        headers={"Cache-Control": "no-store"},
    )


async def _sign_in(request: Request, db: Db, token: str, next_path: str | None) -> Response:
    token = token.strip()
    if not token:
        return _login_page(request, next_path or "", error="Enter your access token.")
    try:
        principal = await authenticate_token(db, token)
    except UnauthenticatedError as exc:
        logger.info("UI sign-in refused: %s", exc.message)
        return _login_page(request, next_path or "", error=exc.message)
    logger.info("UI sign-in: %s (%s)", principal.name, principal.role.value)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    start_session(request, response, token)
    return response


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/settings/models", status_code=303)


@router.get("/login", include_in_schema=False)
async def login_form(
    request: Request, db: Db, token: str | None = None, next: str | None = None
) -> Response:
    if token:
        return await _sign_in(request, db, token, next)
    notice = "You are signed out." if request.query_params.get("signed_out") else None
    return _login_page(request, next or "", notice=notice)


@router.post("/login", include_in_schema=False)
async def login_submit(
    request: Request,
    db: Db,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    return await _sign_in(request, db, token, next)


@router.post("/logout", include_in_schema=False)
async def logout(user: User, _csrf: Csrf) -> RedirectResponse:
    logger.info("UI sign-out: %s", user.name)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    end_session(response)
    return response

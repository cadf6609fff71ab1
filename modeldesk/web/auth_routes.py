"""Sign-in and sign-out.

Three ways in: the token form, `/login?token=` (for scripts), and the
`/login?code=` URL that `serve` prints, whose one-time code is spent on use.
Each opens a server-side session (`auth.sessions`); the cookie holds its id.

No login CSRF: a page elsewhere that sends a signed-in user to
`/login?token=<someone else's token>` (or a cross-site link, whoever is signed
in) gets a confirmation page, not a switched session. Switching takes a POST
carrying the current session's CSRF token, and a POST to `/login` from another
origin is refused outright, so the token form cannot be used for it either.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from modeldesk.auth import (
    Principal,
    UiSessionState,
    authenticate_token,
    end_session,
    open_session,
    peek_sign_in_code,
    redeem_sign_in_code,
)
from modeldesk.db.session import Database
from modeldesk.errors import ForbiddenError, UnauthenticatedError
from modeldesk.web.dependencies import Csrf, Db, User, resolve_session, safe_next
from modeldesk.web.rendering import error_response, render
from modeldesk.web.session import (
    clear_session_cookie,
    csrf_matches,
    session_cookie,
    set_session_cookie,
)

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
    )


async def _whose(db: Database, token: str, code: str) -> Principal:
    """Who a token or a one-time code signs in as; the code stays usable."""
    if code:
        return await peek_sign_in_code(db, code)
    if not token:
        raise UnauthenticatedError("Enter your access token.")
    return await authenticate_token(db, token)


async def _current(request: Request, db: Database) -> UiSessionState | None:
    """The session this browser already holds, shown in the page's header if any."""
    current = await resolve_session(request, db) if session_cookie(request) else None
    if current is not None:
        request.state.user = current.principal
        request.state.session_secret = session_cookie(request)
    return current


def _confirmation(
    request: Request, arriving: Principal, token: str, code: str, next_path: str
) -> HTMLResponse:
    """Ask before switching: whoever sent the browser here may not be its user."""
    context = {"arriving": arriving, "token": token, "code": code, "next_path": next_path}
    return render(request, "login_confirm.html", context)


async def _sign_in(
    request: Request,
    db: Database,
    current: UiSessionState | None,
    arriving: Principal,
    code: str,
    next_path: str,
) -> Response:
    # A code is spent here, in one statement: two tabs racing with it cannot both sign in.
    principal = await redeem_sign_in_code(db, code) if code else arriving
    secret = await open_session(db, principal)
    if current is not None:
        await end_session(db, session_cookie(request))
    logger.info(
        "UI sign-in: %s (%s) with a %s",
        principal.name,
        principal.role.value,
        "one-time code" if code else "token",
    )
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(request, response, secret)
    return response


async def _arrive(
    request: Request, db: Database, token: str, code: str, next_path: str, *, confirmed: bool
) -> Response:
    token, code = token.strip(), code.strip()
    try:
        arriving = await _whose(db, token, code)
        current = await _current(request, db)
        if current is not None and current.principal.token_id == arriving.token_id:
            return RedirectResponse(safe_next(next_path), status_code=303)
        cross_site = request.headers.get("sec-fetch-site") == "cross-site"
        if not confirmed and (current is not None or cross_site):
            return _confirmation(request, arriving, token, code, next_path)
        return await _sign_in(request, db, current, arriving, code, next_path)
    except UnauthenticatedError as exc:
        logger.info("UI sign-in refused: %s", exc.message)
        return _login_page(request, next_path, error=exc.message)


def _same_origin(request: Request) -> bool:
    """Whether a POST comes from a page of this server (a browser sends Origin with every
    POST; a script that sends none is no browser being steered by another site)."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/settings/models", status_code=303)


@router.get("/login", include_in_schema=False)
async def login_form(
    request: Request,
    db: Db,
    token: str = "",
    code: str = "",
    next: str = "",
) -> Response:
    if token or code:
        return await _arrive(request, db, token, code, next, confirmed=False)
    await _current(request, db)
    notice = "You are signed out." if request.query_params.get("signed_out") else None
    return _login_page(request, next, notice=notice)


@router.post("/login", include_in_schema=False)
async def login_submit(
    request: Request,
    db: Db,
    token: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not _same_origin(request):
        logger.warning("UI sign-in refused: a POST from another origin")
        return error_response(request, ForbiddenError("Sign in from this server's own page."))
    # The current session's CSRF token proves the form came from this browser's own
    # page (the sign-in form or the confirmation), so the switch is the user's choice.
    secret = session_cookie(request)
    confirmed = secret is None or csrf_matches(secret, csrf_token)
    return await _arrive(request, db, token, code, next, confirmed=confirmed)


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, db: Db, user: User, _csrf: Csrf) -> RedirectResponse:
    await end_session(db, session_cookie(request))
    logger.info("UI sign-out: %s", user.name)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    clear_session_cookie(response)
    return response

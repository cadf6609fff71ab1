"""What every UI handler needs: the database, the signed-in user, a checked CSRF token.

A failed check raises a web-only exception; `mount_web` turns it into a redirect
to the sign-in page or a 403, so handlers never repeat those branches.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from modeldesk.auth import Principal, authenticate_token
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.errors import UnauthenticatedError
from modeldesk.web.session import CSRF_FIELD, CSRF_HEADER, csrf_matches, session_token

logger = logging.getLogger(__name__)


class SignInRequired(Exception):
    """No valid session: pages redirect to `/login`, htmx requests are told to."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def get_db(request: Request) -> Database:
    return app_context(request).db


def safe_next(path: str | None) -> str:
    """Only a local path may follow sign-in, so `/login?next=` cannot send users elsewhere."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/settings/models"


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(safe_next(next_path), safe="/")


async def current_user(request: Request, db: Annotated[Database, Depends(get_db)]) -> Principal:
    token = session_token(request)
    if token is None:
        raise SignInRequired(request.url.path)
    try:
        principal = await authenticate_token(db, token)
    except UnauthenticatedError:
        logger.info("UI session refused for %s: token unknown or revoked", request.url.path)
        raise SignInRequired(request.url.path) from None
    request.state.user = principal
    request.state.session_token = token
    return principal


async def verify_csrf(request: Request, user: Annotated[Principal, Depends(current_user)]) -> None:
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_matches(request.state.session_token, presented):
        logger.warning(
            "CSRF check failed for %s %s by %s", request.method, request.url.path, user.name
        )
        raise CsrfRefused()


Db = Annotated[Database, Depends(get_db)]
User = Annotated[Principal, Depends(current_user)]
# Every POST handler takes this; the check runs before the handler body.
Csrf = Annotated[None, Depends(verify_csrf)]

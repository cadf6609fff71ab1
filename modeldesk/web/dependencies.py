"""What every UI handler needs: the database, the signed-in user, a checked CSRF token,
and path and query numbers that a database id or a page can actually be.

A failed check raises a web-only exception (or a `ForbiddenError`); `mount_web`
turns it into a redirect to the sign-in page, a 403, a 404 or a 400, so
handlers never repeat those branches.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Path, Query, Request
from starlette.datastructures import FormData

from modeldesk.auth import Principal, UiSessionState, session_state
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.input_rules import MAX_DB_ID
from modeldesk.web.session import CSRF_FIELD, CSRF_HEADER, csrf_matches, session_cookie

logger = logging.getLogger(__name__)

# Where a request's session lookup is kept (in its ASGI scope's state), so the
# body-size limit, which looks it up before the body is read, and the handler
# share one query.
SESSION_STATE_KEY = "modeldesk_ui_session"
# The most pages a list offers: any page beyond the last is simply empty, and
# its offset stays far inside a BIGINT.
MAX_PAGE = 1_000_000_000
# UI forms hold a few dozen fields (the run builder one per model); a field is
# a name, a price or a template with its scenarios, far below 4 MB. The one form
# with a file (a definition's scenarios, `scenario_upload_routes`) reads it itself.
MAX_FORM_FIELDS = 2000
MAX_FORM_FIELD_BYTES = 4 * 1024 * 1024


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


async def read_form(request: Request) -> FormData:
    """The submitted form, parsed within bounds on its fields' number and size."""
    return await request.form(
        max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_FIELD_BYTES
    )


async def resolve_session(request: Request, db: Database) -> UiSessionState | None:
    """The request's live session, looked up at most once per request."""
    state = request.scope.setdefault("state", {})
    if SESSION_STATE_KEY not in state:
        state[SESSION_STATE_KEY] = await session_state(db, session_cookie(request))
    found: UiSessionState | None = state[SESSION_STATE_KEY]
    return found


async def current_user(request: Request, db: Annotated[Database, Depends(get_db)]) -> Principal:
    secret = session_cookie(request)
    if secret is None:
        raise SignInRequired(request.url.path)
    session = await resolve_session(request, db)
    if session is None:
        logger.info(
            "UI session refused for %s: unknown, signed out, idle or its token revoked",
            request.url.path,
        )
        raise SignInRequired(request.url.path)
    request.state.user = session.principal
    request.state.session_secret = secret
    return session.principal


async def admin_user(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    """The signed-in admin; a viewer is refused (403) before the form is even read."""
    user.require_admin("this change")
    return user


async def verify_csrf(request: Request, user: Annotated[Principal, Depends(current_user)]) -> None:
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        value = (await read_form(request)).get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_matches(request.state.session_secret, presented):
        logger.warning(
            "CSRF check failed for %s %s by %s", request.method, request.url.path, user.name
        )
        raise CsrfRefused()


Db = Annotated[Database, Depends(get_db)]
User = Annotated[Principal, Depends(current_user)]
# Admin-only handlers take this instead of User: the role is checked before any input.
Admin = Annotated[Principal, Depends(admin_user)]
# Every POST handler takes this; the check runs before the handler body.
Csrf = Annotated[None, Depends(verify_csrf)]
# A row id in a path: beyond a BIGINT there is no such page (404, not a crash).
PathId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
# A page number in a query: out of range is a bad request (400).
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]

"""The UI session cookie and its CSRF token.

The cookie holds a session id (`auth.sessions`), never the API token: the
session lives in PostgreSQL, so signing out or revoking the token ends it in
every process at once. The CSRF token is an HMAC keyed by that session id: it
needs no state of its own, works across processes and restarts, changes with
every sign-in, and a page on another site cannot compute it without the cookie
it cannot read.

The cookie lives as long as a session may stay idle (`SESSION_IDLE`); the
server, not the cookie, decides whether the session is still good.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

from modeldesk.auth import SESSION_IDLE

SESSION_COOKIE = "modeldesk_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = int(SESSION_IDLE.total_seconds())
_CSRF_PURPOSE = b"modeldesk-ui-csrf-v2"


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def csrf_token_for(session_secret: str) -> str:
    return hmac.new(session_secret.encode(), _CSRF_PURPOSE, hashlib.sha256).hexdigest()


def csrf_matches(session_secret: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token_for(session_secret), presented or "")

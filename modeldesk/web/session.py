"""The UI session cookie and its CSRF token.

The cookie holds the sign-in token itself, and every request authenticates it
again, so revoking the token ends the session at once, in every process. The
CSRF token is an HMAC keyed by that same token: it needs no server-side state
or shared secret, works across processes and restarts, and a page on another
site cannot compute it without the cookie it cannot read.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Response

SESSION_COOKIE = "modeldesk_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = 7 * 24 * 3600
_CSRF_PURPOSE = b"modeldesk-ui-csrf-v1"


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def start_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def csrf_token_for(token: str) -> str:
    return hmac.new(token.encode(), _CSRF_PURPOSE, hashlib.sha256).hexdigest()


def csrf_matches(token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token_for(token), presented or "")

"""Request bodies bounded while they are read, by who sends them; no caching of answers.

SPEC 9.6: `/graphql` once read a whole body before checking its size or its
token (100 MB anonymous took 2.6 s and 170 MB of memory), and `POST /login`
parsed 90 MB of form fields before answering 401. Here the caller is found
first, from the headers alone (the Bearer token through the API's token cache,
or the session cookie through one indexed query that the handler then reuses),
and the body is counted as it arrives: Starlette's `RequestBodyLimitResponder`
answers 413 as soon as the declared length or the bytes received pass the
caller's limit, without buffering anything.

- anonymous (no valid token or session): 64 KB, enough for a sign-in form or a
  GraphQL query, nothing to fill memory with;
- viewer: 1 MB; a viewer changes nothing, so only queries and their variables
  arrive, and no reasonable one comes near;
- admin: 16 MB, for definitions with many scenarios.

`NoStoreMiddleware` marks every answer but static assets `Cache-Control:
no-store`: pages and API answers are per user, and a shared or back-button
cache must not keep them once the user signs out.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modeldesk.api.endpoint import (
    CALLER_STATE_KEY,
    GRAPHQL_PATH,
    GraphQLEndpoint,
    too_large,
    too_large_message,
)
from modeldesk.api.graphiql import GRAPHIQL_ASSETS_PATH
from modeldesk.auth import Principal
from modeldesk.errors import ModeldeskError
from modeldesk.runs import is_database_unavailable
from modeldesk.web.dependencies import resolve_session
from modeldesk.web.session import SESSION_COOKIE

logger = logging.getLogger(__name__)

ANONYMOUS_BODY_LIMIT = 64 * 1024
VIEWER_BODY_LIMIT = 1024 * 1024
ADMIN_BODY_LIMIT = 16 * 1024 * 1024
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The UI's assets (`mount_web`) and GraphiQL's: the same for everyone, and versioned.
_CACHEABLE_PREFIXES = ("/static/", GRAPHIQL_ASSETS_PATH + "/")


def body_limit(principal: Principal | None) -> int:
    if principal is None:
        return ANONYMOUS_BODY_LIMIT
    return ADMIN_BODY_LIMIT if principal.is_admin else VIEWER_BODY_LIMIT


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A body-less method's body is never read; the anonymous limit covers a stray one.
        caller = None if scope["method"] in _BODYLESS_METHODS else await self._caller(scope)
        limit = body_limit(caller)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdecimal() and int(declared) > limit:
            # Refused before the app runs: nothing of the body is read.
            refusal = (
                too_large(limit)
                if scope["path"] == GRAPHQL_PATH
                else PlainTextResponse(too_large_message(limit), 413)
            )
            await refusal(scope, receive, send)
            return
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)

    async def _caller(self, scope: Scope) -> Principal | None:
        """Who sends the request, from its headers; None when unknown (or unknowable now:
        with the database away the handler answers 503 on its own)."""
        request = Request(scope)
        state = scope.setdefault("state", {})
        try:
            if "authorization" in request.headers:
                endpoint: GraphQLEndpoint = request.app.state.graphql
                caller = await endpoint.authenticate(request.headers["authorization"])
                state[CALLER_STATE_KEY] = caller
                return caller.principal
            if SESSION_COOKIE in request.cookies:
                session = await resolve_session(request, request.app.state.context.db)
                return None if session is None else session.principal
        except ModeldeskError:
            return None
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            # The handler's own lookup fails the same way and answers 503.
            logger.info(
                "body limit: database unreachable (%s); anonymous limit", type(exc).__name__
            )
        return None


class NoStoreMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_CACHEABLE_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_no_store)

"""`/graphql` over HTTP: GraphiQL on GET, operations on POST.

A POST is authenticated before anything else (no token, no execution), then
answered from the response cache when it can be, and otherwise executed by
Strawberry. The cache check sits in front of Strawberry on purpose: a hit costs
one shared version query and two dictionary lookups, where executing even a
cached document costs milliseconds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from modeldesk.api.cache import ResponseCache, cache_key
from modeldesk.api.change_listener import ChangeListener
from modeldesk.api.context import RequestContext
from modeldesk.api.errors import error_only_body, format_graphql_error
from modeldesk.api.graphiql import graphiql_page
from modeldesk.api.request_auth import Caller, RequestAuthenticator
from modeldesk.api.schema import ALLOWED_OPERATIONS, CACHEABLE_ROOT_FIELDS
from modeldesk.api.token_cache import TokenCache
from modeldesk.context import AppContext
from modeldesk.errors import DatabaseUnavailableError, ModeldeskError, ValidationError

logger = logging.getLogger(__name__)

GRAPHQL_PATH = "/graphql"
MAX_BODY_BYTES = 256 * 1024
JSON_TYPE = "application/json"


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _refusal(error: ModeldeskError, status: int = 200) -> Response:
    if isinstance(error, DatabaseUnavailableError):
        status = 503
    return Response(_json_bytes(error_only_body(error)), status, media_type=JSON_TYPE)


def _parse_operation(raw: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError(f"The request body is over {MAX_BODY_BYTES} bytes.")
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError("The request body must be JSON.") from exc
    if not isinstance(payload, dict):
        raise ValidationError(
            'Send one operation as a JSON object: {"query", "variables", "operationName"}.'
        )
    query, variables, operation_name = (
        payload.get("query"),
        payload.get("variables"),
        payload.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise ValidationError('The request has no "query".', field="query")
    if variables is not None and not isinstance(variables, dict):
        raise ValidationError('"variables" must be a JSON object.', field="variables")
    if operation_name is not None and not isinstance(operation_name, str):
        raise ValidationError('"operationName" must be a string.', field="operationName")
    return query, variables, operation_name


class GraphQLEndpoint:
    def __init__(self, context: AppContext, schema: Schema, *, response_cache: bool) -> None:
        self.context = context
        self.schema = schema
        self.tokens = TokenCache()
        self.cache = ResponseCache(CACHEABLE_ROOT_FIELDS) if response_cache else None
        self.listener = ChangeListener(
            context.db.url,
            on_catalog_version=self._catalog_changed,
            on_tokens_changed=self.tokens.clear,
            on_disconnect=self._changes_unheard,
        )
        self.authenticator = RequestAuthenticator(context.db, self.listener, self.tokens)

    def _catalog_changed(self, version: int) -> None:
        if self.cache is not None:
            self.cache.advance(version)

    def _changes_unheard(self) -> None:
        self.tokens.clear()
        if self.cache is not None:
            self.cache.clear()

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            if "text/html" in request.headers.get("accept", ""):
                return graphiql_page(request, GRAPHQL_PATH)
            error = ValidationError("Send GraphQL operations with POST; GET serves GraphiQL.")
            return _refusal(error, 405)
        try:
            query, variables, operation_name = _parse_operation(await request.body())
        except ValidationError as exc:
            return _refusal(exc, 400)
        self.listener.start()  # the app's lifespan starts it; an ASGI host may run none
        try:
            caller = await self.authenticator.authenticate(request.headers.get("authorization"))
        except ModeldeskError as exc:
            return _refusal(exc)

        version = caller.catalog_version
        if (
            self.cache is None
            or version is None
            or not self.cache.is_cacheable(query, operation_name)
        ):
            body, _ = await self._execute(caller, query, variables, operation_name)
            return Response(body, media_type=JSON_TYPE)
        key = cache_key(version, caller.principal.role.value, query, variables, operation_name)
        cached = self.cache.get(key)
        if cached is not None:
            return Response(cached, media_type=JSON_TYPE)
        body, ok = await self._execute(caller, query, variables, operation_name)
        if ok:
            self.cache.put(key, body)
        return Response(body, media_type=JSON_TYPE)

    async def _execute(
        self,
        caller: Caller,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> tuple[bytes, bool]:
        """The response bytes, and whether the operation finished without errors."""
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=RequestContext(app=self.context, principal=caller.principal),
                operation_name=operation_name,
                allowed_operation_types=ALLOWED_OPERATIONS,
            )
        except MissingQueryError:
            return _json_bytes(error_only_body(ValidationError("The query is empty."))), False
        except CannotGetOperationTypeError:
            message = (
                f"No operation named {operation_name!r} in the document."
                if operation_name
                else "The document holds no operation to run."
            )
            return _json_bytes(error_only_body(ValidationError(message))), False
        except InvalidOperationTypeError as exc:
            message = f"{exc.operation_type.value.capitalize()} operations are not supported."
            return _json_bytes(error_only_body(ValidationError(message))), False
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [format_graphql_error(err, operation_name) for err in result.errors]
        return _json_bytes(body), not result.errors

    async def close(self) -> None:
        await self.listener.stop()

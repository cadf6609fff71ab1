"""`/graphql` over HTTP: GraphiQL on GET, operations on POST.

A POST is authenticated before anything else, its body included: the caller
decides how large a body may be (`request_limits`, which authenticates it and
leaves the caller here), and an anonymous one is refused before its body is
read. It is then answered from the response cache when it can be, and
otherwise executed by Strawberry. The cache check sits in front of Strawberry
on purpose: a hit costs one shared version query and two dictionary lookups,
where executing even a cached document costs milliseconds.

JSON nesting is bounded (`MAX_JSON_DEPTH`): a deeper body is a 400, never a
RecursionError deep in the parser or in GraphQL's coercion of the variables.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from modeldesk.api.cache import ResponseCache
from modeldesk.api.change_listener import ChangeListener
from modeldesk.api.context import RequestContext
from modeldesk.api.documents import normalized_query
from modeldesk.api.errors import error_only_body, format_graphql_error, is_unavailable
from modeldesk.api.graphiql import graphiql_page
from modeldesk.api.request_auth import Caller, RequestAuthenticator
from modeldesk.api.schema import ALLOWED_OPERATIONS, CACHEABLE_ROOT_FIELDS, DOCUMENTS
from modeldesk.api.token_cache import TokenCache
from modeldesk.context import AppContext
from modeldesk.errors import DatabaseUnavailableError, ModeldeskError, ValidationError
from modeldesk.input_rules import MAX_JSON_DEPTH, echoed

logger = logging.getLogger(__name__)

GRAPHQL_PATH = "/graphql"
JSON_TYPE = "application/json"
# Where `request_limits` leaves the caller it authenticated, in the request's scope state.
CALLER_STATE_KEY = "modeldesk_graphql_caller"
_DEPTH_ERROR = f"The request body is nested more than {MAX_JSON_DEPTH} levels deep."


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _refusal(error: ModeldeskError, status: int = 200) -> Response:
    if isinstance(error, DatabaseUnavailableError):
        status = 503
    return Response(_json_bytes(error_only_body(error)), status, media_type=JSON_TYPE)


def too_large_message(limit: int) -> str:
    """What a body over `limit` is told: the size a person reads first, then the exact one."""
    readable = f"{limit:,} bytes"
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= size and limit % size == 0:
            readable = f"{limit // size} {unit} ({limit:,} bytes)"
            break
    return f"The request body is over {readable}."


def too_large(limit: int) -> Response:
    """413 for a body over the caller's `limit`, with a code like every other refusal."""
    return _refusal(ValidationError(too_large_message(limit)), 413)


def _check_depth(payload: Any) -> None:
    """Walked without recursion, containers only, so a deep value costs no stack."""
    pending: list[tuple[Any, int]] = [(payload, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(_DEPTH_ERROR)
        if isinstance(value, dict):
            pending.extend(
                (item, depth + 1) for item in value.values() if isinstance(item, dict | list)
            )
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value if isinstance(item, dict | list))


def _parse_operation(raw: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        payload = json.loads(raw)
    except ValueError as exc:  # not UTF-8, not JSON, or a number Python will not parse
        raise ValidationError("The request body must be JSON.") from exc
    except RecursionError:
        raise ValidationError(_DEPTH_ERROR) from None
    _check_depth(payload)
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
        # MODELDESK_CACHE_MB is shared: half for responses, half for parsed documents.
        cache_bytes = int(context.settings.cache_mb * 1024 * 1024) // 2
        DOCUMENTS.resize(cache_bytes)
        self.cache = (
            ResponseCache(CACHEABLE_ROOT_FIELDS, max_bytes=cache_bytes) if response_cache else None
        )
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

    async def authenticate(self, authorization: str | None) -> Caller:
        self.listener.start()  # the app's lifespan starts it; an ASGI host may run none
        return await self.authenticator.authenticate(authorization)

    async def handle(self, request: Request) -> Response:
        if request.method == "GET":
            if "text/html" in request.headers.get("accept", ""):
                return graphiql_page(request, GRAPHQL_PATH)
            error = ValidationError("Send GraphQL operations with POST; GET serves GraphiQL.")
            return _refusal(error, 405)
        caller: Caller | None = request.scope.get("state", {}).get(CALLER_STATE_KEY)
        try:
            if caller is None:
                caller = await self.authenticate(request.headers.get("authorization"))
        except ModeldeskError as exc:
            return _refusal(exc)
        try:
            query, variables, operation_name = _parse_operation(await request.body())
        except HTTPException as exc:
            if exc.status_code != 413:
                raise
            return too_large(request.scope[MAX_BODY_SIZE_SCOPE_KEY])
        except ValidationError as exc:
            return _refusal(exc, 400)

        version = caller.catalog_version
        if self.cache is None or version is None:
            body, _, status = await self._execute(caller, query, variables, operation_name)
            return Response(body, status, media_type=JSON_TYPE)
        key = (version, caller.principal.role.value, query, operation_name)
        cached = self.cache.get(key, variables)
        if cached is not None:
            return Response(cached, media_type=JSON_TYPE)
        body, ok, status = await self._execute(caller, query, variables, operation_name)
        if ok and self.cache.is_cacheable(self._root_fields(query, operation_name)):
            self.cache.put(key, variables, body)
        return Response(body, status, media_type=JSON_TYPE)

    @staticmethod
    def _root_fields(query: str, operation_name: str | None) -> frozenset[str] | None:
        """The root fields of the operation just run, from its cached document (None: not a
        plain query, or its document is not cached, so the answer is not kept either)."""
        text = normalized_query(query)
        document = None if text is None else DOCUMENTS.get(text)
        return None if document is None else document.root_fields_if_query(operation_name)

    async def _execute(
        self,
        caller: Caller,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> tuple[bytes, bool, int]:
        """The response bytes, whether the operation finished without errors, and the
        HTTP status: 503 when the database could not be reached, as a retry may succeed."""
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=RequestContext(app=self.context, principal=caller.principal),
                operation_name=operation_name,
                allowed_operation_types=ALLOWED_OPERATIONS,
            )
        except MissingQueryError:
            return _json_bytes(error_only_body(ValidationError("The query is empty."))), False, 200
        except CannotGetOperationTypeError:
            message = (
                f"No operation named {echoed(operation_name)} in the document."
                if operation_name
                else "The document holds no operation to run."
            )
            return _json_bytes(error_only_body(ValidationError(message))), False, 200
        except InvalidOperationTypeError as exc:
            message = f"{exc.operation_type.value.capitalize()} operations are not supported."
            return _json_bytes(error_only_body(ValidationError(message))), False, 200
        body: dict[str, Any] = {"data": result.data}
        status = 200
        if result.errors:
            errors = [format_graphql_error(err, operation_name) for err in result.errors]
            body["errors"] = errors
            if any(is_unavailable(error) for error in errors):
                status = 503
        return _json_bytes(body), not result.errors, status

    async def close(self) -> None:
        await self.listener.stop()

"""How errors leave the API: a person-readable message and a code in `extensions.code`.

Domain errors carry their SPEC code already; GraphQL's own errors (a bad query,
a variable of the wrong type, a limit exceeded) are the caller's input at fault,
so they become VALIDATION_ERROR. Anything else is a bug: it is logged here with
its traceback and the caller sees a generic message, never a stack trace or SQL.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from modeldesk.errors import ErrorCode, ModeldeskError

logger = logging.getLogger(__name__)

INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"
INTERNAL_ERROR_MESSAGE = "Something went wrong on the server; the error has been logged."


def domain_error_body(error: ModeldeskError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code.value}
    if error.retryable:
        extensions["retryable"] = True
    extensions.update(error.details)
    return {"message": error.message, "extensions": extensions}


def _is_input_error(error: GraphQLError) -> bool:
    """A bad document or bad variables: found by GraphQL itself before any resolver ran."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return True
    # Variable coercion wraps a scalar's own refusal and has no field path.
    return error.path is None and isinstance(original, ValueError | TypeError)


def format_graphql_error(error: GraphQLError, operation: str | None = None) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, ModeldeskError):
        body = domain_error_body(original)
    elif _is_input_error(error):
        body = {
            "message": error.message,
            "extensions": {"code": ErrorCode.VALIDATION_ERROR.value},
        }
    else:
        logger.error(
            "unexpected error in GraphQL operation %s at %s",
            operation or "(anonymous)",
            ".".join(str(step) for step in error.path or ()) or "(document)",
            exc_info=original,
        )
        body = {"message": INTERNAL_ERROR_MESSAGE, "extensions": {"code": INTERNAL_ERROR_CODE}}
    if error.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        body["path"] = list(error.path)
    return body


def error_only_body(error: ModeldeskError) -> dict[str, Any]:
    """A response for a request refused before execution (no token, malformed body)."""
    return {"data": None, "errors": [domain_error_body(error)]}

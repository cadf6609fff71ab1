"""How errors leave the API: a person-readable message and a code in `extensions.code`.

Domain errors carry their SPEC code already; GraphQL's own errors (a bad query,
a variable of the wrong type, a limit exceeded) are the caller's input at fault,
so they become VALIDATION_ERROR. A database that cannot be reached, however the
driver reported it, is UNAVAILABLE (retryable; the endpoint answers HTTP 503).
Anything else is a bug: it is logged here with its traceback and the caller
sees a generic message, never a stack trace or SQL.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.input_rules import MAX_ECHO
from modeldesk.runs import is_database_unavailable, unavailable_error

logger = logging.getLogger(__name__)

INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"
INTERNAL_ERROR_MESSAGE = "Something went wrong on the server; the error has been logged."
# A quoted value longer than MAX_ECHO in GraphQL's own messages ("Cannot query
# field 'xxx…'", "got invalid value '…'"), which quote the caller's input.
_LONG_QUOTED = re.compile(rf"'([^']{{{MAX_ECHO}}})[^']+'|\"([^\"]{{{MAX_ECHO}}})[^\"]+\"")


def _cut_echoes(message: str) -> str:
    """GraphQL's message with every long quoted value cut to MAX_ECHO characters (SPEC 9.6)."""
    return _LONG_QUOTED.sub(lambda match: repr((match.group(1) or match.group(2)) + "…"), message)


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


def is_unavailable(body: dict[str, Any]) -> bool:
    """Whether a formatted error says the database cannot be reached (HTTP 503)."""
    return bool(body.get("extensions", {}).get("code") == ErrorCode.UNAVAILABLE.value)


def format_graphql_error(error: GraphQLError, operation: str | None = None) -> dict[str, Any]:
    original = error.original_error
    if isinstance(original, ModeldeskError):
        body = domain_error_body(original)
    elif original is not None and is_database_unavailable(original):
        logger.warning(
            "GraphQL operation %s: database unreachable (%s)",
            operation or "(anonymous)",
            type(original).__name__,
        )
        body = domain_error_body(unavailable_error(original))
    elif _is_input_error(error):
        body = {
            "message": _cut_echoes(error.message),
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

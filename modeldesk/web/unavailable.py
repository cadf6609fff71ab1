"""A page that cannot reach the database answers 503 with a readable message, not a 500.

Services let driver errors through: an unreachable server surfaces as an
`OSError`, or as a SQLAlchemy or asyncpg error. Those that `is_database_unavailable`
accepts become the UI's usual refusal (`error_response`) with the code
UNAVAILABLE: a status line for htmx, an error page otherwise. Anything else is
raised again: a bug, shown as a 500 and logged with its traceback.
"""

from __future__ import annotations

import logging

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from modeldesk.errors import DatabaseUnavailableError
from modeldesk.runs import is_database_unavailable, unavailable_error
from modeldesk.web.rendering import error_response

logger = logging.getLogger(__name__)

# What an unreachable database can surface as, through the services.
_DRIVER_ERRORS: tuple[type[Exception], ...] = (
    DatabaseUnavailableError,
    OSError,
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    if not is_database_unavailable(exc):
        raise exc
    logger.warning(
        "UI request %s %s: database unreachable (%s)",
        request.method,
        request.url.path,
        type(exc).__name__,
    )
    error = exc if isinstance(exc, DatabaseUnavailableError) else unavailable_error(exc)
    return error_response(request, error)


def answer_unavailable_with_503(app: FastAPI) -> None:
    for error_type in _DRIVER_ERRORS:
        app.add_exception_handler(error_type, _database_unavailable)

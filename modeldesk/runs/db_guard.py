"""Turning "the database cannot be reached" into a retryable `DatabaseUnavailableError`.

A worker must never guess or fake a result when PostgreSQL is down: the job
fails as retryable and the queue runs it again later. Integrity and
programming errors are not connection problems and pass through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from modeldesk.errors import DatabaseUnavailableError

logger = logging.getLogger(__name__)


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError | OperationalError | InterfaceError):
        return True  # asyncpg raises OSError itself when the server cannot be reached
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@asynccontextmanager
async def database_guard() -> AsyncIterator[None]:
    try:
        yield
    except (OSError, DBAPIError) as exc:
        if not _is_connection_failure(exc):
            raise
        logger.warning("database unreachable: %s: %s", type(exc).__name__, exc)
        raise DatabaseUnavailableError(
            f"The database cannot be reached ({type(exc).__name__}); the job will be retried."
        ) from exc

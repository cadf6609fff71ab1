"""Telling an outage from a bug, and the backoff and logging of reconnection."""

from __future__ import annotations

import random

import asyncpg
import pytest
from asyncpg.exceptions import ConnectionDoesNotExistError, UniqueViolationError
from sqlalchemy.exc import DBAPIError, InterfaceError

from modeldesk.db.reconnect import Reconnection
from modeldesk.errors import DatabaseUnavailableError
from modeldesk.runs.db_guard import is_database_unavailable


@pytest.mark.parametrize(
    "error",
    [
        DatabaseUnavailableError("down"),
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.InterfaceError("connection is closed"),
        # What pgqueuer's listener teardown raised in the crash of issue 9.
        asyncpg.InterfaceError(
            "cannot call Connection.reset(): connection has been released back to the pool"
        ),
        asyncpg.InterfaceError("pool is closing"),
        DBAPIError("SELECT 1", None, ConnectionResetError(104, "reset by peer")),
        InterfaceError("SELECT 1", None, Exception("gone"), connection_invalidated=True),
    ],
    ids=repr,
)
def test_these_mean_the_database_cannot_serve_us_now(error: BaseException) -> None:
    assert is_database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        UniqueViolationError("duplicate key"),
        DBAPIError("INSERT", None, UniqueViolationError("duplicate key")),
        asyncpg.InterfaceError("the server expects 1 argument for this query, 0 were passed"),
        RuntimeError("a bug"),
    ],
    ids=repr,
)
def test_these_are_bugs(error: BaseException) -> None:
    assert not is_database_unavailable(error)


def test_the_backoff_doubles_up_to_its_cap_and_starts_over_once_restored() -> None:
    reconnection = Reconnection(first_delay=0.2, max_delay=2.0, rng=random.Random(7))
    assert reconnection.lost() is True  # begins an outage: the one to log
    delays = [reconnection.next_delay()]
    for _ in range(6):
        assert reconnection.lost() is False  # the same outage
        delays.append(reconnection.next_delay())
    expected = [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    assert all(0.8 * e <= d <= 1.2 * e for d, e in zip(delays, expected, strict=True))

    outage = reconnection.restored()
    assert outage is not None and outage >= 0
    assert reconnection.restored() is None  # no outage open any more
    assert reconnection.lost() is True  # the next one is a new outage
    assert reconnection.next_delay() <= 0.2 * 1.2

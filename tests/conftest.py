"""Shared fixtures: a real PostgreSQL database for the whole session, emptied between tests.

By default an embedded server (pgserver) in a temporary directory; with
MODELDESK_TEST_DATABASE_URL set, that server. Either way the tests create a
database of their own and drop it at the end, so parallel runs never collide.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from modeldesk.auth.principal import Principal
from modeldesk.db.seed import seed_catalog
from modeldesk.db.session import Database
from modeldesk.enums import Role
from modeldesk.testing import Simulator
from modeldesk.testing.scratch_database import scratch_database

# Tables the tests never empty: migration bookkeeping and single-row state.
_KEEP_TABLES = {"alembic_version", "catalog_state"}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL to a PostgreSQL server's maintenance database."""
    external = os.environ.get("MODELDESK_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from modeldesk.db.embedded import embedded_database_url, stop_embedded_servers

    data_dir = Path(tempfile.mkdtemp(prefix="modeldesk-test-"))
    try:
        yield embedded_database_url(data_dir)
    finally:
        stop_embedded_servers()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test session, dropped at its end."""
    async with scratch_database(server_url, prefix=f"modeldesk_test_{os.getpid()}") as url:
        yield url


async def _empty_tables(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        tables = [
            f'"{row["tablename"]}"'
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            if row["tablename"] not in _KEEP_TABLES
        ]
        if tables:
            await conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A Database on empty tables (the schema stays)."""
    await _empty_tables(database_url)
    database = Database(database_url, pool_size=5)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def seeded_db(db: Database) -> Database:
    await seed_catalog(db)
    return db


@pytest.fixture(scope="session")
def simulator() -> Iterator[Simulator]:
    """One provider simulator (a real HTTP server on loopback) for the whole session."""
    with Simulator() as running:
        yield running


@pytest.fixture
def sim(simulator: Simulator) -> Simulator:
    """The session simulator with every model's configuration and counters reset."""
    simulator.reset()
    return simulator


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


@pytest.fixture
def admin() -> Principal:
    return Principal(name="alice", role=Role.ADMIN)


@pytest.fixture
def viewer() -> Principal:
    return Principal(name="victor", role=Role.VIEWER)

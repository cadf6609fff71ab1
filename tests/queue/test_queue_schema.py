"""Migration 0003 and `queue_tables` agree; autogenerate leaves pgqueuer's own tables alone."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from modeldesk.db import queue_tables, run_tables  # noqa: F401  (register their tables)
from modeldesk.db.tables import Base
from modeldesk.db.urls import sqlalchemy_url

QUEUE_TABLES = {"provider_holds", "provider_request_starts", "provider_waiting_lines"}


def _mentions_queue_table(diff: Any) -> bool:
    return any(name in repr(diff) for name in QUEUE_TABLES)


def _skip_pgqueuer(name: str | None, type_: str, parent_names: object) -> bool:
    return not (type_ == "table" and name in queue_tables.PGQUEUER_TABLES)


async def test_the_migrated_queue_tables_match_their_models(database_url: str) -> None:
    engine = create_async_engine(sqlalchemy_url(database_url))

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _skip_pgqueuer}
        )
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as connection:
            diffs = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert [diff for diff in diffs if _mentions_queue_table(diff)] == []
    assert set(Base.metadata.tables) >= QUEUE_TABLES

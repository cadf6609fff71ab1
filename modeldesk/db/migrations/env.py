"""Alembic environment.

`modeldesk.db.migrate` hands over an open async connection (holding the
migration advisory lock); the `alembic` command line gets an engine of its own.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from modeldesk.db import (
    auth_tables,  # noqa: F401  (registers the session tables)
    queue_log,  # noqa: F401  (registers the log trimming's timestamp)
    run_tables,  # noqa: F401  (registers the run tables on Base)
    summary_tables,  # noqa: F401  (registers the summary and analysis tables)
    total_tables,  # noqa: F401  (registers the running totals)
)
from modeldesk.db.queue_tables import PGQUEUER_TABLES  # also registers the queue tables
from modeldesk.db.tables import Base

config = context.config
target_metadata = Base.metadata


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # pgqueuer's tables come from its install SQL (0003), not from our metadata.
    return not (type_ == "table" and name in PGQUEUER_TABLES)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


given: Connection | None = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_with_own_engine())

"""The probe step's bare connections: a lost one is retryable and never handed out again."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from modeldesk.db.session import Database
from modeldesk.errors import DatabaseUnavailableError
from modeldesk.runs.driver_connection import driver_connection


async def test_a_connection_lost_mid_statement_is_retryable_and_discarded(db: Database) -> None:
    single = Database(db.url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            async with driver_connection(single) as connection:
                pid = await connection.fetchval("SELECT pg_backend_pid()")
                async with db.session() as session:
                    await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                await connection.fetchval("SELECT 1")
        assert caught.value.retryable is True
        async with driver_connection(single) as connection:  # a fresh one, not the dead one
            assert await connection.fetchval("SELECT pg_backend_pid()") != pid
    finally:
        await single.dispose()

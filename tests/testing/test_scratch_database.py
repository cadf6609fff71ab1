"""The benchmarks' scratch database: migrated while in use, gone afterwards."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]

from modeldesk.testing.scratch_database import scratch_database


async def test_a_scratch_database_is_migrated_then_dropped(server_url: str) -> None:
    async with scratch_database(server_url, prefix="modeldesk_scratch_test") as url:
        name = url.split("?")[0].rsplit("/", 1)[1]
        assert name.startswith("modeldesk_scratch_test_")
        connection = await asyncpg.connect(url)
        try:
            assert await connection.fetchval("SELECT version FROM catalog_state") == 0
        finally:
            await connection.close()
    server = await asyncpg.connect(server_url)
    try:
        gone = await server.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name)
    finally:
        await server.close()
    assert gone == 0

"""Migrations go up and down cleanly, and upgrading twice is a no-op."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from modeldesk.db.migrate import alembic_config, upgrade_database
from modeldesk.db.urls import sqlalchemy_url


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await conn.close()


async def _downgrade_to_base(url: str) -> None:
    config = alembic_config(url)
    engine = create_async_engine(sqlalchemy_url(url))

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


async def test_upgrade_downgrade_upgrade_round_trip(server_url: str) -> None:
    name = f"modeldesk_migrations_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    try:
        await asyncio.gather(upgrade_database(url), upgrade_database(url))  # concurrent starts
        migrated = await _tables(url)
        assert {"llm_providers", "llm_models", "llm_model_price_versions"} <= migrated
        assert {"system_settings", "api_tokens", "audit_entries"} <= migrated
        await _downgrade_to_base(url)
        assert await _tables(url) == {"alembic_version"}
        await upgrade_database(url)
        assert await _tables(url) == migrated
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

"""Every catalogue row, to show a refused mutation left the database as it was."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from modeldesk.db.session import Database

TABLES = (
    "llm_providers",
    "llm_models",
    "llm_model_price_versions",
    "system_settings",
    "audit_entries",
    "api_tokens",
    "catalog_state",
)


async def catalogue_snapshot(db: Database) -> dict[str, list[Any]]:
    snapshot: dict[str, list[Any]] = {}
    async with db.session() as session:
        for table in TABLES:
            rows = await session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            snapshot[table] = [tuple(row) for row in rows]
    return snapshot

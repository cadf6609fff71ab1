"""Migration 0006 (cache-write prices, long-context tiers) keeps every recorded cost and snapshot.

It is run alone (0005 -> 0006), so later migrations cannot blur what it changed.

A database at 0005 with a priced model, its price versions and transcripts
(one with cache writes that were charged as input) is upgraded: every price,
cost and snapshot reads back unchanged, repricing a snapshot by its version's
prices under the new rules gives the cost it recorded, and xAI maps to x-ai.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from modeldesk.catalog.price_sets import quote_from_columns
from modeldesk.config import Settings
from modeldesk.db.migrate import alembic_config, upgrade_database
from modeldesk.db.tables import PRICE_COLUMNS
from modeldesk.db.urls import sqlalchemy_url
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.llm import CostSnapshot, Usage, fallback_quote, snapshot_cost

OLD_PRICES = "cost_input_per_million, cost_output_per_million, cost_cached_input_per_million"
# (input, output, cached, cache writes the old snapshots never counted apart, reasoning)
CALLS = [(1200, 300, 0, 0, 0), (250_000, 3000, 100_000, 40_000, 0), (5000, 800, 3000, 0, 300)]


@pytest.fixture
async def url_at_0005(server_url: str) -> AsyncIterator[str]:
    name = f"modeldesk_tiers_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
        await upgrade_database(url, "0005")
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _snapshot(
    version_id: int, prices: tuple[str, str, str | None], call: tuple[int, ...]
) -> dict[str, Any]:
    """What release 1 wrote: cached reads at their price, everything else of the input at input."""
    inp, out, cached, _writes, reasoning = call
    usage = Usage(inp, out, cached_input_tokens=cached, reasoning_tokens=reasoning)
    quote_prices = [None if p is None else Decimal(p) for p in prices]
    snap = snapshot_cost(
        usage,
        quote_from_columns(
            {column: None for column in PRICE_COLUMNS}
            | dict(zip(OLD_PRICES.split(", "), quote_prices, strict=True)),
            price_version_id=version_id,
        ),
        fallback=fallback_quote(None, None, Settings()),
    )
    data = snap.to_json()
    # The release-1 snapshot had none of the keys added since.
    for key in ("costCacheWritePerMillion", "longContextTier", "cacheWriteTokens"):
        del data[key]
    return data


async def _fill_release_one(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "INSERT INTO llm_providers (id, name, display_name, api_style) VALUES "
        "(1, 'anthropic', 'Anthropic', 'ANTHROPIC'), (2, 'xai', 'xAI', 'OPENAI')"
    )
    await conn.execute(
        f"INSERT INTO llm_models (id, provider_id, model_id, display_name, {OLD_PRICES}) "
        "VALUES (1, 1, 'claude-sonnet-4-5', 'Sonnet', 3.00, 15.00, 0.30)"
    )
    await conn.execute(
        f"INSERT INTO llm_model_price_versions (id, model_id, {OLD_PRICES}, effective_from, "
        "effective_until) VALUES (1, 1, 3.00, 15.00, NULL, now() - interval '2 days', "
        "now() - interval '1 day'), (2, 1, 3.00, 15.00, 0.30, now() - interval '1 day', NULL)"
    )
    await conn.execute(
        "INSERT INTO definitions (id, name, template, created_by) VALUES (1, 'd', 't', 'a')"
    )
    await conn.execute(
        "INSERT INTO scenarios (id, definition_id, position, text, source) VALUES "
        + ", ".join(f"({i}, 1, {i}, 's{i}', 'explicit')" for i in range(1, len(CALLS) + 1))
    )
    await conn.execute(
        "INSERT INTO runs (id, definition_id, status, total, completed, created_by) "
        f"VALUES (1, 1, $1, {len(CALLS)}, {len(CALLS)}, 'a')",
        RunStatus.COMPLETED.value,
    )
    for index, call in enumerate(CALLS, start=1):
        version_id = 1 if index == 1 else 2
        prices = ("3.00", "15.00", None if version_id == 1 else "0.30")
        snapshot = _snapshot(version_id, prices, call)
        await conn.execute(
            "INSERT INTO probes (id, run_id, scenario_id, model_id, state) "
            "VALUES ($1, 1, $1, 1, $2)",
            index,
            ProbeState.SUCCEEDED.value,
        )
        await conn.execute(
            "INSERT INTO transcripts (run_id, scenario_id, model_id, probe_id, status, "
            "input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, "
            "estimated_cost, cost_snapshot) "
            "VALUES (1, $1, 1, $1, $2, $3, $4, $5, $6, $7, $8)",
            index,
            TranscriptStatus.SUCCEEDED.value,
            call[0],
            call[1],
            call[2],
            call[4],
            Decimal(snapshot["estimatedCost"]),
            json.dumps(snapshot),
        )


async def _rows(conn: asyncpg.Connection, query: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(query)]


async def test_existing_costs_and_snapshots_keep_their_meaning(url_at_0005: str) -> None:
    conn = await asyncpg.connect(url_at_0005)
    try:
        await _fill_release_one(conn)
        versions_before = await _rows(conn, "SELECT * FROM llm_model_price_versions ORDER BY id")
        transcripts_before = await _rows(conn, "SELECT * FROM transcripts ORDER BY id")
        model_before = await _rows(conn, "SELECT * FROM llm_models")
    finally:
        await conn.close()

    await upgrade_database(url_at_0005, "0006")

    conn = await asyncpg.connect(url_at_0005)
    try:
        versions = await _rows(conn, "SELECT * FROM llm_model_price_versions ORDER BY id")
        transcripts = await _rows(conn, "SELECT * FROM transcripts ORDER BY id")
        model = await _rows(conn, "SELECT * FROM llm_models")
        providers = {
            row["name"]: row["reference_provider"]
            for row in await conn.fetch("SELECT name, reference_provider FROM llm_providers")
        }
    finally:
        await conn.close()

    added = set(PRICE_COLUMNS) - set(OLD_PRICES.split(", "))
    for before, after in zip([*versions_before, *model_before], [*versions, *model], strict=True):
        assert {k: v for k, v in after.items() if k not in added} == before
        assert all(after[column] is None for column in added)
    for before, after in zip(transcripts_before, transcripts, strict=True):
        assert {k: v for k, v in after.items() if k != "cache_write_tokens"} == before
        assert after["cache_write_tokens"] == 0

    # Repricing each snapshot's usage by its version under today's rules gives its cost.
    by_id = {row["id"]: row for row in versions}
    for transcript in transcripts:
        snapshot = CostSnapshot.from_json(json.loads(transcript["cost_snapshot"]))
        assert snapshot.cost == transcript["estimated_cost"]
        version = by_id[snapshot.price_version_id]
        quote = quote_from_columns(version, price_version_id=version["id"])
        usage = Usage(
            snapshot.input_tokens,
            snapshot.output_tokens,
            cached_input_tokens=snapshot.cached_input_tokens,
            reasoning_tokens=snapshot.reasoning_tokens,
            cache_creation_input_tokens=snapshot.cache_write_tokens,
        )
        again = snapshot_cost(usage, quote, fallback=fallback_quote(None, None, Settings()))
        assert again.cost == snapshot.cost
        assert not again.tier_applied

    assert providers == {"anthropic": None, "xai": "x-ai"}


async def test_the_migration_goes_down_and_up_again(url_at_0005: str) -> None:
    await upgrade_database(url_at_0005, "0006")
    config = alembic_config(url_at_0005)
    engine = create_async_engine(sqlalchemy_url(url_at_0005))

    def down(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")

    try:
        async with engine.connect() as connection:
            await connection.run_sync(down)
            await connection.commit()
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(url_at_0005)
    try:
        columns = {
            row["column_name"]
            for row in await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'llm_model_price_versions'"
            )
        }
    finally:
        await conn.close()
    assert "long_context_threshold" not in columns
    await upgrade_database(url_at_0005, "0006")

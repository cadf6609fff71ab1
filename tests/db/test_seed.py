from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ModelUpdate, get_model_by_identifier, update_model
from modeldesk.db.seed import count_catalog, seed_catalog
from modeldesk.db.session import Database


async def _snapshot(db: Database) -> list[tuple[object, ...]]:
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT p.name, p.max_parallel_requests, p.requests_per_minute, m.model_id,"
                " m.cost_input_per_million, m.cost_output_per_million, m.is_default, m.status"
                " FROM llm_models m JOIN llm_providers p ON p.id = m.provider_id"
                " ORDER BY p.name, m.model_id"
            )
        )
        settings = await session.execute(text("SELECT key, value FROM system_settings"))
        return [tuple(r) for r in rows] + [tuple(r) for r in settings]


async def test_seed_gives_the_spec_catalogue(db: Database) -> None:
    added = await seed_catalog(db)
    assert added == 17
    assert await count_catalog(db) == (6, 10)
    mini = await get_model_by_identifier(db, "openai", "gpt-5-mini")
    assert mini.is_default and mini.cost_output_per_million == Decimal("2.00")
    async with db.session() as session:
        limits = (
            await session.execute(
                text(
                    "SELECT max_parallel_requests, requests_per_minute FROM llm_providers "
                    "WHERE name = 'anthropic'"
                )
            )
        ).one()
        infra = await session.scalar(
            text("SELECT value FROM system_settings WHERE key = 'infra_model_scenario_expansion'")
        )
    assert tuple(limits) == (3, 40)
    assert infra == {"providerName": "openai", "modelId": "gpt-5-mini"}


async def test_seed_twice_gives_the_same_rows(db: Database) -> None:
    await seed_catalog(db)
    first = await _snapshot(db)
    assert await seed_catalog(db) == 0
    assert await _snapshot(db) == first


async def test_seed_never_overwrites_an_operator_edit(db: Database, admin: Principal) -> None:
    await seed_catalog(db)
    mini = await get_model_by_identifier(db, "openai", "gpt-5-mini")
    await update_model(db, admin, mini.id, ModelUpdate(cost_input_per_million=Decimal("0.3")))
    await seed_catalog(db)
    again = await get_model_by_identifier(db, "openai", "gpt-5-mini")
    assert again.cost_input_per_million == Decimal("0.3")

"""No N+1: nested fields cost a fixed number of SQL statements whatever the row count."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_app import close_app, listening, make_app
from graphql_client import GraphQLClient
from statement_counter import StatementCounter

from modeldesk import catalog
from modeldesk.auth import Principal
from modeldesk.db.session import Database

NESTED = """{ llmProviders { name models { modelId provider { name } } } }"""
# One root field each: root fields resolve concurrently, so in a combined document
# whether one field's rows prime another's loader first is a matter of timing.
EVERY_NESTED_FIELD = [
    """{ llmProviders { activeModels { id } defaultModel { id }
        models { isAvailable provider { name } priceHistory { effectiveFrom } } } }""",
    "{ availableModels { isAvailable provider { name } priceHistory { id } } }",
    "{ llmModels { provider { defaultModel { modelId } activeModels { id } } } }",
]


@pytest.fixture
async def uncached(db: Database, admin_token: str) -> AsyncIterator[GraphQLClient]:
    app = make_app(db, response_cache=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://modeldesk.test") as http:
        client = GraphQLClient(http, admin_token)
        await listening(app)
        await client.data("{ __typename }")  # the token is remembered: no lookup is counted
        yield client
    await close_app(app)


async def add_models(db: Database, actor: Principal, total: int) -> None:
    providers = await catalog.list_providers(db)
    existing = len(await catalog.list_models(db))
    for n in range(existing, total):
        data = catalog.ModelCreate.parse(
            provider_id=providers[n % len(providers)].id,
            model_id=f"extra-{n}",
            display_name=f"Extra {n}",
            cost_input_per_million="1",
            cost_output_per_million="2",
        )
        await catalog.create_model(db, actor, data)


async def statements_for(db: Database, client: GraphQLClient, query: str) -> list[str]:
    counter = StatementCounter(db)
    try:
        await client.data(query)
    finally:
        counter.close()
    return counter.statements


@pytest.mark.parametrize("query", [NESTED, *EVERY_NESTED_FIELD])
async def test_statement_count_does_not_grow_with_rows(
    seeded_db: Database, uncached: GraphQLClient, admin: Principal, query: str
) -> None:
    with_10 = await statements_for(seeded_db, uncached, query)
    await add_models(seeded_db, admin, 50)
    assert len(await catalog.list_models(seeded_db)) == 50
    with_50 = await statements_for(seeded_db, uncached, query)

    assert len(with_10) == len(with_50), with_50
    assert len(with_50) <= 3


async def test_nested_provider_models_provider_is_two_statements(
    seeded_db: Database, uncached: GraphQLClient, admin: Principal
) -> None:
    await add_models(seeded_db, admin, 50)
    statements = await statements_for(seeded_db, uncached, NESTED)
    # providers, their models (one batch); each model's provider comes from the first list.
    assert len(statements) == 2, statements

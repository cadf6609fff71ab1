"""Prices that can be set over the API: provider default prices and a model's cached-input price.

The defaults are what an unpriced model is charged, so the last test follows one
set here all the way into a run estimate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from catalog_snapshot import catalogue_snapshot
from graphql_client import GraphQLClient

from modeldesk import catalog
from modeldesk.auth import Principal
from modeldesk.db.session import Database
from modeldesk.enums import Role
from modeldesk.runs import create_definition

PROVIDER_PRICES = "id defaultCostInputPerMillion defaultCostOutputPerMillion"
UPDATE_PROVIDER = f"""mutation($id: ID!, $input: UpdateLlmProviderInput!) {{
    updateLlmProvider(id: $id, input: $input) {{ provider {{ {PROVIDER_PRICES} }} }} }}"""
CREATE_PROVIDER = f"""mutation($input: CreateLlmProviderInput!) {{
    createLlmProvider(input: $input) {{ provider {{ name {PROVIDER_PRICES} }} }} }}"""
MODEL_PRICES = """id costInputPerMillion costCachedInputPerMillion costOutputPerMillion
    priceHistory { costInputPerMillion costCachedInputPerMillion effectiveUntil }"""
CREATE_MODEL = f"""mutation($input: CreateLlmModelInput!) {{
    createLlmModel(input: $input) {{ model {{ {MODEL_PRICES} }} }} }}"""
UPDATE_MODEL = f"""mutation($id: ID!, $input: UpdateLlmModelInput!) {{
    updateLlmModel(id: $id, input: $input) {{ model {{ {MODEL_PRICES} }} }} }}"""
OPENAI = "1"


async def test_an_admin_sets_provider_default_prices(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    changes = {"defaultCostInputPerMillion": 1.5, "defaultCostOutputPerMillion": 6}
    saved = await gql.data(UPDATE_PROVIDER, {"id": OPENAI, "input": changes})
    assert saved["updateLlmProvider"]["provider"] == {
        "id": OPENAI,
        "defaultCostInputPerMillion": 1.5,
        "defaultCostOutputPerMillion": 6.0,
    }
    listed = await gql.data(f"{{ llmProviders {{ {PROVIDER_PRICES} }} }}")
    assert listed["llmProviders"][0] == saved["updateLlmProvider"]["provider"]
    assert all(p["defaultCostInputPerMillion"] is None for p in listed["llmProviders"][1:])
    stored = await catalog.get_provider(seeded_db, int(OPENAI))
    assert (stored.default_input_price, stored.default_output_price) == (Decimal("1.5"), 6)

    only_output = {"defaultCostOutputPerMillion": 0.000001}
    kept = await gql.data(UPDATE_PROVIDER, {"id": OPENAI, "input": only_output})
    assert kept["updateLlmProvider"]["provider"]["defaultCostInputPerMillion"] == 1.5
    stored = await catalog.get_provider(seeded_db, int(OPENAI))
    assert stored.default_output_price == Decimal("0.000001")


async def test_a_new_provider_can_come_with_default_prices(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    local = {
        "name": "local",
        "displayName": "Local vLLM",
        "apiStyle": "OPENAI",
        "defaultCostInputPerMillion": 0.1,
        "defaultCostOutputPerMillion": 0.2,
    }
    created = (await gql.data(CREATE_PROVIDER, {"input": local}))["createLlmProvider"]["provider"]
    assert created["defaultCostInputPerMillion"] == 0.1
    assert created["defaultCostOutputPerMillion"] == 0.2
    stored = await catalog.get_provider(seeded_db, int(created["id"]))
    assert stored.default_input_price == Decimal("0.1")  # exact, not the float's binary value


async def test_cached_input_price_through_create_update_and_price_history(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    new = {
        "providerId": OPENAI,
        "modelId": "gpt-6",
        "displayName": "GPT-6",
        "costInputPerMillion": 1.25,
        "costOutputPerMillion": 10,
        "costCachedInputPerMillion": 0.125,
    }
    created = (await gql.data(CREATE_MODEL, {"input": new}))["createLlmModel"]["model"]
    assert created["costCachedInputPerMillion"] == 0.125
    assert created["priceHistory"] == [
        {"costInputPerMillion": 1.25, "costCachedInputPerMillion": 0.125, "effectiveUntil": None}
    ]

    edit = {"id": created["id"], "input": {"costCachedInputPerMillion": 0.1}}
    edited = (await gql.data(UPDATE_MODEL, edit))["updateLlmModel"]["model"]
    assert edited["costCachedInputPerMillion"] == 0.1
    assert edited["costInputPerMillion"] == 1.25 and edited["costOutputPerMillion"] == 10
    newest, older = edited["priceHistory"]
    assert newest == {
        "costInputPerMillion": 1.25,
        "costCachedInputPerMillion": 0.1,
        "effectiveUntil": None,
    }
    assert older["costCachedInputPerMillion"] == 0.125 and older["effectiveUntil"] is not None
    stored = await catalog.get_model(seeded_db, int(created["id"]))
    assert stored.cost_cached_input_per_million == Decimal("0.1")


@pytest.mark.parametrize(
    ("document", "variables", "field"),
    [
        (UPDATE_PROVIDER, {"defaultCostInputPerMillion": -0.01}, "defaultCostInputPerMillion"),
        (UPDATE_PROVIDER, {"defaultCostOutputPerMillion": 1e7}, "defaultCostOutputPerMillion"),
        (UPDATE_PROVIDER, {"defaultCostInputPerMillion": 1e-13}, "defaultCostInputPerMillion"),
        (UPDATE_MODEL, {"costCachedInputPerMillion": -1}, "costCachedInputPerMillion"),
        (UPDATE_MODEL, {"costCachedInputPerMillion": 1e-300}, "costCachedInputPerMillion"),
    ],
)
async def test_bad_prices_are_validation_errors_naming_the_field(
    seeded_db: Database,
    gql: GraphQLClient,
    document: str,
    variables: dict[str, Any],
    field: str,
) -> None:
    before = await catalogue_snapshot(seeded_db)
    error = await gql.error(document, {"id": "1", "input": variables})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": field}
    assert field in error["message"]
    assert await catalogue_snapshot(seeded_db) == before


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (UPDATE_PROVIDER, {"defaultCostInputPerMillion": 1, "defaultCostOutputPerMillion": 2}),
        (UPDATE_MODEL, {"costCachedInputPerMillion": 0.01}),
    ],
)
async def test_a_viewer_cannot_set_prices(
    seeded_db: Database, viewer_gql: GraphQLClient, document: str, variables: dict[str, Any]
) -> None:
    before = await catalogue_snapshot(seeded_db)
    error = await viewer_gql.error(document, {"id": "1", "input": variables})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await catalogue_snapshot(seeded_db) == before


async def test_an_unpriced_model_is_estimated_at_its_providers_default_prices(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    """Input from the provider's default set here; output, unset there, from the settings."""
    unpriced = {"providerId": OPENAI, "modelId": "mystery", "displayName": "Mystery"}
    model = (await gql.data(CREATE_MODEL, {"input": unpriced}))["createLlmModel"]["model"]
    await gql.data(UPDATE_PROVIDER, {"id": OPENAI, "input": {"defaultCostInputPerMillion": 2}})
    author = Principal(name="alice", role=Role.ADMIN)
    definition = await create_definition(seeded_db, author, name="d", template="Say hi.")
    estimate = await gql.data(
        """query($id: ID!, $models: [String!]) { estimateRunCost(definitionId: $id,
            models: $models) { unpriced perModel { inputPrice outputPrice unpriced } } }""",
        {"id": str(definition.id), "models": [model["id"], "openai/gpt-5-mini"]},
    )
    mystery, mini = estimate["estimateRunCost"]["perModel"]
    assert mystery == {"inputPrice": 2.0, "outputPrice": 30.0, "unpriced": True}
    assert mini == {"inputPrice": 0.25, "outputPrice": 2.0, "unpriced": False}
    assert estimate["estimateRunCost"]["unpriced"] is True

"""Prices over GraphQL: proposals, applying them (admin only), models from the reference,
cache-write prices and long-context tiers, and providers' reference provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graphql_client import GraphQLClient
from price_reference_data import DIFFERING, write_prices_file

from modeldesk.db.session import Database

PROPOSALS = """{ priceProposals { model { id modelId provider { name } } differences source
    sourceVersion referenceModel note
    current { costInputPerMillion costCachedInputPerMillion longContextTier { thresholdTokens } }
    proposed { costInputPerMillion costOutputPerMillion costCachedInputPerMillion
      costCacheWritePerMillion longContextTier { thresholdTokens costInputPerMillion
      costCachedInputPerMillion costCacheWritePerMillion costOutputPerMillion } } } }"""
APPLY = """mutation($ids: [ID!]!) { applyPriceProposals(modelIds: $ids) { models { modelId
    costCachedInputPerMillion costCacheWritePerMillion longContextTier { thresholdTokens }
    priceHistory { costCacheWritePerMillion longContextTier { costOutputPerMillion } } } } }"""
CREATE_MODEL = """mutation($input: CreateLlmModelInput!) { createLlmModel(input: $input) {
    model { modelId displayName costInputPerMillion costOutputPerMillion costCachedInputPerMillion
    costCacheWritePerMillion longContextTier { thresholdTokens costInputPerMillion
    costOutputPerMillion } } } }"""
UPDATE_MODEL = """mutation($id: ID!, $input: UpdateLlmModelInput!) { updateLlmModel(id: $id,
    input: $input) { model { costCacheWritePerMillion longContextTier { thresholdTokens
    costInputPerMillion costOutputPerMillion } priceHistory { longContextTier
    { thresholdTokens } } } } }"""
PROVIDERS = "{ llmProviders { name referenceProvider } }"


@pytest.fixture(autouse=True)
def prices_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's settings name a known data file (set before the app is made)."""
    path = write_prices_file(tmp_path / "data.json")
    monkeypatch.setenv("MODELDESK_PRICES_FILE", str(path))
    return path


async def _proposals(client: GraphQLClient) -> dict[str, dict[str, Any]]:
    rows = (await client.data(PROPOSALS))["priceProposals"]
    return {f"{row['model']['provider']['name']}/{row['model']['modelId']}": row for row in rows}


async def test_any_user_reads_the_proposals(
    seeded_db: Database, viewer_gql: GraphQLClient, prices_file: Path
) -> None:
    proposals = await _proposals(viewer_gql)
    assert set(proposals) == DIFFERING
    sonnet = proposals["anthropic/claude-sonnet-4-5"]
    assert sonnet["differences"] == [
        "costCachedInputPerMillion",
        "costCacheWritePerMillion",
        "longContextTier",
    ]
    assert sonnet["current"] == {
        "costInputPerMillion": 3.0,
        "costCachedInputPerMillion": None,
        "longContextTier": None,
    }
    assert sonnet["proposed"]["longContextTier"] == {
        "thresholdTokens": 200_000,
        "costInputPerMillion": 6.0,
        "costCachedInputPerMillion": 0.6,
        "costCacheWritePerMillion": 7.5,
        "costOutputPerMillion": 22.5,
    }
    assert sonnet["source"] == str(prices_file) and "sha256:" in sonnet["sourceVersion"]
    assert sonnet["referenceModel"] == "anthropic/claude-sonnet-4-5"
    assert "16 h a day" in proposals["deepseek/deepseek-chat"]["note"]


async def test_only_an_admin_applies_and_the_models_come_back_repriced(
    seeded_db: Database, gql: GraphQLClient, viewer_gql: GraphQLClient
) -> None:
    ids = [row["model"]["id"] for row in (await _proposals(gql)).values()]
    refused = await viewer_gql.error(APPLY, {"ids": ids})
    assert refused["extensions"]["code"] == "FORBIDDEN"
    assert set(await _proposals(gql)) == DIFFERING

    applied = (await gql.data(APPLY, {"ids": ids}))["applyPriceProposals"]["models"]
    sonnet = next(model for model in applied if model["modelId"] == "claude-sonnet-4-5")
    assert sonnet["costCacheWritePerMillion"] == 3.75
    assert sonnet["longContextTier"] == {"thresholdTokens": 200_000}
    newest, previous = sonnet["priceHistory"]
    assert newest == {
        "costCacheWritePerMillion": 3.75,
        "longContextTier": {"costOutputPerMillion": 22.5},
    }
    assert previous == {"costCacheWritePerMillion": None, "longContextTier": None}
    assert await _proposals(gql) == {}

    again = await gql.error(APPLY, {"ids": ids[:1]})
    assert again["extensions"]["code"] == "VALIDATION_ERROR"
    too_many = await gql.error(APPLY, {"ids": [str(i) for i in range(1, 1002)]})
    assert too_many["extensions"]["code"] == "VALIDATION_ERROR"


async def test_create_a_model_from_the_reference(seeded_db: Database, gql: GraphQLClient) -> None:
    reference = {"providerId": "2", "modelId": "claude-sonnet-4-5-20250929", "fromReference": True}
    anthropic = (await gql.data('{ llmProvider(id: "2") { name } }'))["llmProvider"]
    assert anthropic == {"name": "anthropic"}
    # The seed has claude-sonnet-4-5 already; a dated id of it is another catalogue model.
    made = (await gql.data(CREATE_MODEL, {"input": reference}))["createLlmModel"]["model"]
    assert made == {
        "modelId": "claude-sonnet-4-5-20250929",
        "displayName": "Claude Sonnet 4.5",
        "costInputPerMillion": 3.0,
        "costOutputPerMillion": 15.0,
        "costCachedInputPerMillion": 0.3,
        "costCacheWritePerMillion": 3.75,
        "longContextTier": {
            "thresholdTokens": 200_000,
            "costInputPerMillion": 6.0,
            "costOutputPerMillion": 22.5,
        },
    }
    unknown = await gql.error(CREATE_MODEL, {"input": {**reference, "modelId": "claude-9"}})
    assert unknown["extensions"]["code"] == "VALIDATION_ERROR"
    both = await gql.error(
        CREATE_MODEL, {"input": {**reference, "modelId": "x", "costInputPerMillion": 1.0}}
    )
    assert both["extensions"]["code"] == "VALIDATION_ERROR"


async def test_tiers_and_cache_writes_are_set_and_cleared(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    tier = {"thresholdTokens": 128_000, "costInputPerMillion": 0.5, "costOutputPerMillion": 4}
    changes = {"costCacheWritePerMillion": 0.3125, "longContextTier": tier}
    model = (await gql.data(UPDATE_MODEL, {"id": "1", "input": changes}))["updateLlmModel"]
    assert model["model"]["costCacheWritePerMillion"] == 0.3125
    assert model["model"]["longContextTier"] == tier
    kept = await gql.data(UPDATE_MODEL, {"id": "1", "input": {"displayName": "Mini"}})
    assert kept["updateLlmModel"]["model"]["longContextTier"] == tier
    cleared = await gql.data(UPDATE_MODEL, {"id": "1", "input": {"longContextTier": None}})
    history = cleared["updateLlmModel"]["model"]["priceHistory"]
    assert cleared["updateLlmModel"]["model"]["longContextTier"] is None
    assert [version["longContextTier"] for version in history] == [
        None,
        {"thresholdTokens": 128_000},
        None,
    ]
    bad = await gql.error(
        UPDATE_MODEL, {"id": "1", "input": {"longContextTier": {"thresholdTokens": 0}}}
    )
    assert bad["extensions"]["code"] == "VALIDATION_ERROR"


async def test_providers_name_their_reference_provider(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    providers = {
        p["name"]: p["referenceProvider"] for p in (await gql.data(PROVIDERS))["llmProviders"]
    }
    assert providers["xai"] == "x-ai" and providers["openai"] == "openai"
    create = """mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input)
        { provider { id referenceProvider } } }"""
    made = await gql.data(
        create,
        {
            "input": {
                "name": "local",
                "displayName": "Local",
                "apiStyle": "OPENAI",
                "baseUrl": "http://127.0.0.1:9",
                "referenceProvider": "openai",
            }
        },
    )
    provider = made["createLlmProvider"]["provider"]
    assert provider["referenceProvider"] == "openai"
    update = """mutation($id: ID!, $input: UpdateLlmProviderInput!) { updateLlmProvider(id: $id,
        input: $input) { provider { referenceProvider } } }"""
    reset = await gql.data(update, {"id": provider["id"], "input": {"referenceProvider": ""}})
    assert reset["updateLlmProvider"]["provider"]["referenceProvider"] == "local"
    bad = await gql.error(update, {"id": provider["id"], "input": {"referenceProvider": "a b"}})
    assert bad["extensions"]["code"] == "VALIDATION_ERROR"

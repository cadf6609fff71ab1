"""The plan's contract for lookups: a client tests a lookup for null.

Nothing matching is `null` with no error, whatever the reason (an unknown id,
an id no row could have, a key holding characters no key holds), so a lookup
never takes its sibling fields down with it. Mutations on a missing row still
say NOT_FOUND: there the caller asked for a change that cannot happen.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql_client import GraphQLClient

from modeldesk.db.session import Database

BIGGER_THAN_ANY_ID = str(2**63)


async def _post_escaped(
    gql: GraphQLClient, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Posted as ASCII JSON, so a lone surrogate travels as `\\ud800`, as many clients send it
    (httpx's own JSON encoding would refuse it before sending)."""
    response = await gql.http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_missing_model_is_null_and_the_rest_of_the_query_survives(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    body = await gql.post('{ llmProviders { name } llmModel(id: "999") { id } }')
    assert "errors" not in body
    assert body["data"]["llmModel"] is None
    assert [p["name"] for p in body["data"]["llmProviders"]][:2] == ["openai", "anthropic"]


@pytest.mark.parametrize(
    ("lookup", "variables"),
    [
        ("llmProvider(id: $id) { name }", {"id": "999"}),
        ("llmProvider(id: $id) { name }", {"id": "abc"}),
        ("llmProvider(id: $id) { name }", {"id": BIGGER_THAN_ANY_ID}),
        ("llmModel(id: $id) { modelId }", {"id": "0"}),
        ("llmModel(id: $id) { modelId }", {"id": "-1"}),
        ("llmModel(id: $id) { modelId }", {"id": BIGGER_THAN_ANY_ID}),
        ("definition(id: $id) { name }", {"id": "999"}),
        ("definition(id: $id) { name }", {"id": "1e3"}),
        ("run(id: $id) { status }", {"id": "999"}),
        ("run(id: $id) { status }", {"id": "9" * 5000}),
        ("systemSetting(key: $key) { value }", {"key": "nope"}),
        ("systemSetting(key: $key) { value }", {"key": "a\u0000"}),
        ("systemSetting(key: $key) { value }", {"key": "\ud800"}),
        ("llmModelByIdentifier(providerName: $p, modelId: $m) { id }", {"p": "xai", "m": "grok-9"}),
        ("llmModelByIdentifier(providerName: $p, modelId: $m) { id }", {"p": "\u0000", "m": "x"}),
        (
            "llmModelByIdentifier(providerName: $p, modelId: $m) { id }",
            {"p": "openai", "m": "\x00"},
        ),
    ],
)
async def test_lookups_that_match_nothing_are_null_without_errors(
    seeded_db: Database, gql: GraphQLClient, lookup: str, variables: dict[str, str]
) -> None:
    declared = ", ".join(f"${name}: {'ID' if name == 'id' else 'String'}!" for name in variables)
    body = await _post_escaped(
        gql, f"query({declared}) {{ llmProviders {{ name }} found: {lookup} }}", variables
    )
    assert "errors" not in body, body["errors"]
    assert body["data"]["found"] is None
    assert len(body["data"]["llmProviders"]) == 6


async def test_lookups_still_find_what_exists(seeded_db: Database, gql: GraphQLClient) -> None:
    data = await gql.data(
        """{ llmProvider(id: "1") { name } llmModel(id: "1") { modelId }
             llmModelByIdentifier(providerName: "openai", modelId: "gpt-5.1") { id }
             systemSetting(key: "infra_model_scenario_expansion") { value } }"""
    )
    assert data["llmProvider"] == {"name": "openai"}
    assert data["llmModel"] == {"modelId": "gpt-5-mini"}
    assert data["llmModelByIdentifier"] == {"id": "2"}
    assert data["systemSetting"]["value"] == {"providerName": "openai", "modelId": "gpt-5-mini"}


async def test_an_unknown_infra_purpose_fails_that_field_alone(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    body = await gql.post('{ llmProviders { name } infraModel(purpose: "nope") { isFallback } }')
    assert body["data"]["infraModel"] is None
    assert len(body["data"]["llmProviders"]) == 6
    (error,) = body["errors"]
    assert error["path"] == ["infraModel"]
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "purpose"}


async def test_the_schema_declares_the_lookups_nullable(gql: GraphQLClient) -> None:
    """Introspected, as a client generating its types from the schema would see them."""
    data = await gql.data("{ __schema { queryType { fields { name type { kind } } } } }")
    kinds = {
        field["name"]: field["type"]["kind"] for field in data["__schema"]["queryType"]["fields"]
    }
    lookups = (
        "llmProvider",
        "llmModel",
        "llmModelByIdentifier",
        "systemSetting",
        "infraModel",
        "definition",
        "run",
    )
    assert {name: kinds[name] for name in lookups} == dict.fromkeys(lookups, "OBJECT")


@pytest.mark.parametrize(
    "mutation",
    [
        'mutation { deprecateLlmModel(id: "999") { model { id } } }',
        'mutation { updateLlmProvider(id: "999", input: {isEnabled: false}) { provider { id } } }',
        'mutation { cancelRun(id: "999") { run { id } } }',
        'mutation { expandScenarios(definitionId: "999") { definition { id } } }',
        'mutation { revokeApiToken(id: "999") { token { id } } }',
    ],
)
async def test_mutations_on_a_missing_row_still_say_not_found(
    seeded_db: Database, gql: GraphQLClient, mutation: str
) -> None:
    assert (await gql.error(mutation))["extensions"]["code"] == "NOT_FOUND"

"""Every catalogue mutation over HTTP: its payload, its refusals, and no change when refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from catalog_snapshot import catalogue_snapshot
from graphql_client import GraphQLClient

from modeldesk import catalog
from modeldesk.auth import Principal
from modeldesk.db.session import Database

CREATE_MODEL = """mutation($input: CreateLlmModelInput!) { createLlmModel(input: $input) {
    model { id providerId modelId displayName costInputPerMillion costOutputPerMillion status
    isDefault priceHistory { costInputPerMillion } } } }"""
UPDATE_MODEL = """mutation($id: ID!, $input: UpdateLlmModelInput!) {
    updateLlmModel(id: $id, input: $input) { model { id displayName costInputPerMillion
    costOutputPerMillion priceHistory { costInputPerMillion effectiveUntil } } } }"""
CREATE_PROVIDER = """mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) {
    provider { id name displayName apiStyle baseUrl apiKeyEnv maxParallelRequests
    requestsPerMinute isEnabled defaultModel { id } } } }"""
UPDATE_PROVIDER = """mutation($id: ID!, $input: UpdateLlmProviderInput!) {
    updateLlmProvider(id: $id, input: $input) { provider { id maxParallelRequests
    requestsPerMinute isEnabled baseUrl } } }"""
UPDATE_SETTING = """mutation($input: UpdateSystemSettingInput!) {
    updateSystemSetting(input: $input) { setting { key value } } }"""


def new_model(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "providerId": "1",
        "modelId": "gpt-6",
        "displayName": "GPT-6",
        "costInputPerMillion": 0.1,
        "costOutputPerMillion": 0.7,
    }
    return {**values, **overrides}


async def test_create_model_keeps_prices_exact(seeded_db: Database, gql: GraphQLClient) -> None:
    created = (await gql.data(CREATE_MODEL, {"input": new_model()}))["createLlmModel"]["model"]
    assert created["modelId"] == "gpt-6" and created["providerId"] == "1"
    assert created["status"] == "ACTIVE" and created["isDefault"] is False
    assert created["costInputPerMillion"] == 0.1
    assert created["priceHistory"] == [{"costInputPerMillion": 0.1}]
    stored = await catalog.get_model(seeded_db, int(created["id"]))
    assert stored.cost_input_per_million == Decimal("0.1")  # not 0.1000000000000000055...
    assert stored.cost_output_per_million == Decimal("0.7")


async def test_create_model_as_default_replaces_the_default(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    made = await gql.data(CREATE_MODEL, {"input": new_model(setAsDefault=True)})
    assert made["createLlmModel"]["model"]["isDefault"] is True
    provider = await gql.data('{ llmProvider(id: "1") { defaultModel { modelId } } }')
    assert provider["llmProvider"]["defaultModel"] == {"modelId": "gpt-6"}


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"costInputPerMillion": -0.01}, "VALIDATION_ERROR", "costInputPerMillion"),
        ({"costOutputPerMillion": -1}, "VALIDATION_ERROR", "costOutputPerMillion"),
        ({"modelId": "   "}, "VALIDATION_ERROR", "modelId"),
        ({"displayName": "x" * 201}, "VALIDATION_ERROR", "displayName"),
        ({"providerId": "999"}, "NOT_FOUND", None),
        ({"providerId": "abc"}, "VALIDATION_ERROR", "providerId"),
        ({"modelId": "gpt-5-mini"}, "CONFLICT", None),
    ],
)
async def test_create_model_refusals_change_nothing(
    seeded_db: Database,
    gql: GraphQLClient,
    overrides: dict[str, Any],
    code: str,
    field: str | None,
) -> None:
    before = await catalogue_snapshot(seeded_db)
    error = await gql.error(CREATE_MODEL, {"input": new_model(**overrides)})
    assert error["extensions"]["code"] == code
    assert error["extensions"].get("field") == field
    assert "Traceback" not in error["message"] and "SELECT" not in error["message"]
    assert await catalogue_snapshot(seeded_db) == before


async def test_create_model_with_a_wrong_type_is_a_validation_error(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    error = await gql.error(CREATE_MODEL, {"input": new_model(costInputPerMillion="cheap")})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "costInputPerMillion" in error["message"]


async def test_update_model_changes_name_and_prices_with_a_new_price_version(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    variables = {"id": "1", "input": {"displayName": "Mini", "costInputPerMillion": 0.3}}
    model = (await gql.data(UPDATE_MODEL, variables))["updateLlmModel"]["model"]
    assert model["displayName"] == "Mini" and model["costInputPerMillion"] == 0.3
    assert model["costOutputPerMillion"] == 2.0
    newest, older = model["priceHistory"]
    assert newest == {"costInputPerMillion": 0.3, "effectiveUntil": None}
    assert older["costInputPerMillion"] == 0.25 and older["effectiveUntil"] is not None


@pytest.mark.parametrize(
    ("model_id", "changes", "code"),
    [
        ("1", {"costInputPerMillion": -5}, "VALIDATION_ERROR"),
        ("1", {"displayName": ""}, "VALIDATION_ERROR"),
        ("999", {"displayName": "Ghost"}, "NOT_FOUND"),
    ],
)
async def test_update_model_refusals_change_nothing(
    seeded_db: Database, gql: GraphQLClient, model_id: str, changes: dict[str, Any], code: str
) -> None:
    before = await catalogue_snapshot(seeded_db)
    error = await gql.error(UPDATE_MODEL, {"id": model_id, "input": changes})
    assert error["extensions"]["code"] == code
    assert await catalogue_snapshot(seeded_db) == before


async def test_update_model_cannot_change_the_model_id(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    error = await gql.error(UPDATE_MODEL, {"id": "1", "input": {"modelId": "renamed"}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"


async def test_deprecate_default_names_the_new_default_and_reactivate(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    deprecate = """mutation($id: ID!) { deprecateLlmModel(id: $id) {
        model { modelId status isDefault } newDefault { modelId isDefault } } }"""
    result = (await gql.data(deprecate, {"id": "1"}))["deprecateLlmModel"]
    assert result["model"] == {"modelId": "gpt-5-mini", "status": "DEPRECATED", "isDefault": False}
    assert result["newDefault"] == {"modelId": "gpt-5.1", "isDefault": True}

    last = (await gql.data(deprecate, {"id": "2"}))["deprecateLlmModel"]
    assert last["newDefault"] is None
    provider = await gql.data(
        '{ llmProvider(id: "1") { defaultModel { id } activeModels { id } } }'
    )
    assert provider["llmProvider"] == {"defaultModel": None, "activeModels": []}

    reactivate = """mutation($id: ID!) { reactivateLlmModel(id: $id) {
        model { modelId status isDefault } } }"""
    back = (await gql.data(reactivate, {"id": "1"}))["reactivateLlmModel"]["model"]
    assert back == {"modelId": "gpt-5-mini", "status": "ACTIVE", "isDefault": False}
    missing = await gql.error(reactivate, {"id": "404"})
    assert missing["extensions"]["code"] == "NOT_FOUND"


async def test_set_default_names_the_previous_default(
    seeded_db: Database, gql: GraphQLClient, admin: Principal
) -> None:
    set_default = """mutation($id: ID!) { setDefaultModel(id: $id) {
        model { modelId isDefault } previousDefault { modelId isDefault } } }"""
    result = (await gql.data(set_default, {"id": "4"}))["setDefaultModel"]
    assert result["model"] == {"modelId": "claude-sonnet-4-5", "isDefault": True}
    assert result["previousDefault"] == {"modelId": "claude-haiku-4-5", "isDefault": False}

    await catalog.deprecate_model(seeded_db, admin, 3)
    before = await catalogue_snapshot(seeded_db)
    refused = await gql.error(set_default, {"id": "3"})
    assert refused["extensions"]["code"] == "MODEL_DEPRECATED"
    assert await catalogue_snapshot(seeded_db) == before


async def test_create_provider_and_its_refusals(seeded_db: Database, gql: GraphQLClient) -> None:
    local = {
        "name": "local",
        "displayName": "Local vLLM",
        "apiStyle": "OPENAI",
        "baseUrl": "http://127.0.0.1:9000/v1",
        "apiKeyEnv": "LOCAL_API_KEY",
    }
    provider = (await gql.data(CREATE_PROVIDER, {"input": local}))["createLlmProvider"]["provider"]
    assert provider["name"] == "local" and provider["apiStyle"] == "OPENAI"
    assert provider["maxParallelRequests"] == 1 and provider["requestsPerMinute"] == 60
    assert provider["isEnabled"] is True and provider["defaultModel"] is None
    assert provider["baseUrl"] == "http://127.0.0.1:9000/v1"

    before = await catalogue_snapshot(seeded_db)
    refusals = [
        ({**local}, "CONFLICT"),
        ({**local, "name": "other", "maxParallelRequests": -1}, "VALIDATION_ERROR"),
        ({**local, "name": "other", "baseUrl": "ftp://x"}, "VALIDATION_ERROR"),
        ({**local, "name": "Bad Name!"}, "VALIDATION_ERROR"),
        ({**local, "name": "other", "apiStyle": "SOAP"}, "VALIDATION_ERROR"),
    ]
    for values, code in refusals:
        error = await gql.error(CREATE_PROVIDER, {"input": values})
        assert error["extensions"]["code"] == code, (values, error)
    assert await catalogue_snapshot(seeded_db) == before


async def test_update_provider_limits_enabled_and_base_url(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    changes = {
        "maxParallelRequests": 7,
        "requestsPerMinute": 0,
        "isEnabled": False,
        "baseUrl": "http://127.0.0.1:8080/v1",
    }
    provider = await gql.data(UPDATE_PROVIDER, {"id": "1", "input": changes})
    assert provider["updateLlmProvider"]["provider"] == {
        "id": "1",
        "maxParallelRequests": 7,
        "requestsPerMinute": 0,
        "isEnabled": False,
        "baseUrl": "http://127.0.0.1:8080/v1",
    }
    cleared = await gql.data(UPDATE_PROVIDER, {"id": "1", "input": {"baseUrl": ""}})
    assert cleared["updateLlmProvider"]["provider"]["baseUrl"] is None

    before = await catalogue_snapshot(seeded_db)
    negative = await gql.error(UPDATE_PROVIDER, {"id": "1", "input": {"requestsPerMinute": -1}})
    assert negative["extensions"] == {"code": "VALIDATION_ERROR", "field": "requestsPerMinute"}
    missing = await gql.error(UPDATE_PROVIDER, {"id": "77", "input": {"isEnabled": True}})
    assert missing["extensions"]["code"] == "NOT_FOUND"
    assert await catalogue_snapshot(seeded_db) == before


async def test_update_system_setting_accepts_json_or_a_json_string(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    value = {"providerName": "anthropic", "modelId": "claude-haiku-4-5"}
    as_object = {"input": {"key": "infra_model_analysis", "value": value}}
    setting = (await gql.data(UPDATE_SETTING, as_object))["updateSystemSetting"]["setting"]
    assert setting == {"key": "infra_model_analysis", "value": value}
    as_text = {"input": {"key": "ui_theme", "value": '{"dark": true}'}}
    themed = (await gql.data(UPDATE_SETTING, as_text))["updateSystemSetting"]["setting"]
    assert themed["value"] == {"dark": True}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ui_theme", "{not json"),
        ("infra_model_analysis", {"providerName": "openai"}),
        ("infra_model_poetry", {"providerName": "openai", "modelId": "gpt-5-mini"}),
        ("", 1),
    ],
)
async def test_update_system_setting_refusals_change_nothing(
    seeded_db: Database, gql: GraphQLClient, key: str, value: Any
) -> None:
    before = await catalogue_snapshot(seeded_db)
    error = await gql.error(UPDATE_SETTING, {"input": {"key": key, "value": value}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert await catalogue_snapshot(seeded_db) == before


async def test_token_management_creates_lists_and_revokes(db: Database, gql: GraphQLClient) -> None:
    created = await gql.data(
        'mutation { createApiToken(input: {role: VIEWER, name: "ci"}) '
        "{ plainToken token { id name role isRevoked tokenPrefix } } }"
    )
    payload = created["createApiToken"]
    assert payload["token"]["role"] == "VIEWER" and payload["token"]["isRevoked"] is False
    assert payload["plainToken"].startswith(payload["token"]["tokenPrefix"])
    new_token = payload["plainToken"]
    assert (await gql.post("{ llmProviders { id } }", token=new_token)).get("errors") is None

    listed = await gql.data("{ apiTokens { name role isRevoked } }")
    assert {"name": "ci", "role": "VIEWER", "isRevoked": False} in listed["apiTokens"]

    revoke = "mutation($id: ID!) { revokeApiToken(id: $id) { token { isRevoked revokedAt } } }"
    revoked = await gql.data(revoke, {"id": payload["token"]["id"]})
    assert revoked["revokeApiToken"]["token"]["isRevoked"] is True
    refused = await gql.post("{ llmProviders { id } }", token=new_token)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    assert (await gql.error(revoke, {"id": "999"}))["extensions"]["code"] == "NOT_FOUND"
    create = """mutation($name: String!) {
        createApiToken(input: {role: ADMIN, name: $name}) { plainToken } }"""
    too_long = await gql.error(create, {"name": "n" * 201})
    assert too_long["extensions"] == {"code": "VALIDATION_ERROR", "field": "name"}


async def test_token_changes_are_audited_and_the_last_admin_token_stays(
    db: Database, gql: GraphQLClient
) -> None:
    only_admin = (await gql.data("{ apiTokens { id role } }"))["apiTokens"]
    [admin_id] = [token["id"] for token in only_admin if token["role"] == "ADMIN"]
    revoke = "mutation($id: ID!) { revokeApiToken(id: $id) { token { isRevoked } } }"
    before = await catalogue_snapshot(db)
    refused = await gql.error(revoke, {"id": admin_id})
    assert refused["extensions"]["code"] == "CONFLICT"
    assert "last active admin token" in refused["message"]
    assert await catalogue_snapshot(db) == before

    created = await gql.data(
        'mutation { createApiToken(input: {role: ADMIN, name: "deputy"}) { token { id } } }'
    )
    deputy_id = created["createApiToken"]["token"]["id"]
    await gql.data(revoke, {"id": deputy_id})
    log = await gql.data(
        '{ auditLog(entityType: "token") { entries { actor action entityId before after } } }'
    )
    revoked, made = log["auditLog"]["entries"][:2]
    assert (made["actor"], made["action"]) == ("test admin", "token.create")
    assert made["entityId"] == deputy_id
    assert made["after"] == {"name": "deputy", "role": "admin", "revoked_at": None}
    assert (revoked["action"], revoked["entityId"]) == ("token.revoke", deputy_id)
    assert revoked["after"]["revoked_at"] is not None

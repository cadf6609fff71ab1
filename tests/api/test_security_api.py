"""Issue 15 over GraphQL: keys that cannot be exfiltrated, bounded bodies, lists and echoes,
the role before validation, no-store answers and token audit entries for admins only."""

from __future__ import annotations

import json

import httpx
import pytest
from graphql_client import GraphQLClient
from sqlalchemy import update

from modeldesk.api.endpoint import too_large_message
from modeldesk.auth import Principal
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.request_limits import ADMIN_BODY_LIMIT, ANONYMOUS_BODY_LIMIT, VIEWER_BODY_LIMIT
from modeldesk.runs import create_definition
from modeldesk.runs.model_selection import MAX_MODELS
from modeldesk.testing.request_bodies import CountedBody

CREATE_PROVIDER = """mutation($input: CreateLlmProviderInput!) {
  createLlmProvider(input: $input) { provider { id name baseUrl apiKeyEnv } } }"""
UPDATE_PROVIDER = """mutation($id: ID!, $input: UpdateLlmProviderInput!) {
  updateLlmProvider(input: $input, id: $id) { provider { id baseUrl } } }"""
UPDATE_MODEL = """mutation($id: ID!, $input: UpdateLlmModelInput!) {
  updateLlmModel(id: $id, input: $input) { model { id } } }"""
PROVIDERS = "{ llmProviders { name apiKeyEnv hasApiKey } }"
AUDIT = "{ auditLog(limit: 100) { entries { action entityType } } }"
ESTIMATE = """query($id: ID!, $models: [String!]) {
  estimateRunCost(definitionId: $id, models: $models) { totalCost } }"""
CREATE_RUN = """mutation($input: CreateRunInput!) { createRun(input: $input) { run { id } } }"""
LISTENER = "http://127.0.0.1:8933"
JSON = "application/json"


async def test_an_admin_cannot_name_a_server_setting_as_a_key(
    seeded_db: Database, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stolen = {
        "name": "exfil",
        "displayName": "Exfil",
        "apiStyle": "OPENAI",
        "baseUrl": LISTENER,
        "apiKeyEnv": "MODELDESK_DATABASE_URL",
    }
    error = await gql.error(CREATE_PROVIDER, {"input": stolen})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "apiKeyEnv"}
    assert "MODELDESK_PROVIDER_KEY_VARS" in error["message"]
    # An operator who means it lists the variable; a MODELDESK_* one can never be listed.
    monkeypatch.setenv("MODELDESK_PROVIDER_KEY_VARS", "LOCAL_LLM_TOKEN")
    allowed = {**stolen, "name": "local", "apiKeyEnv": "LOCAL_LLM_TOKEN"}
    provider = (await gql.data(CREATE_PROVIDER, {"input": allowed}))["createLlmProvider"]
    assert provider["provider"]["apiKeyEnv"] == "LOCAL_LLM_TOKEN"


async def test_a_provider_key_goes_only_to_its_own_host_loopback_or_listed_hosts(
    seeded_db: Database, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = {"id": "1", "input": {"baseUrl": "https://attacker.example/v1"}}  # openai
    error = await gql.error(UPDATE_PROVIDER, moved)
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "baseUrl"}
    assert "add attacker.example to MODELDESK_ALLOWED_PROVIDER_HOSTS" in error["message"]
    elsewhere = {
        "name": "proxy",
        "displayName": "Proxy",
        "apiStyle": "OPENAI",
        "baseUrl": "https://eu.llm-proxy.example",
        "apiKeyEnv": "OPENAI_API_KEY",
    }
    assert (await gql.error(CREATE_PROVIDER, {"input": elsewhere}))["extensions"]["field"] == (
        "baseUrl"
    )

    monkeypatch.setenv("MODELDESK_ALLOWED_PROVIDER_HOSTS", "*.llm-proxy.example")
    await gql.data(CREATE_PROVIDER, {"input": elsewhere})
    local = {"id": "1", "input": {"baseUrl": "http://127.0.0.1:9000/v1"}}
    assert (await gql.data(UPDATE_PROVIDER, local))["updateLlmProvider"]["provider"] == {
        "id": "1",
        "baseUrl": "http://127.0.0.1:9000/v1",
    }
    changes = (await gql.data(AUDIT))["auditLog"]["entries"]
    assert changes[0] == {"action": "provider.update", "entityType": "provider"}


async def test_has_api_key_reveals_no_other_environment_variable(
    seeded_db: Database, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", "/root")
    async with seeded_db.transaction() as session:  # a row from before the rule, say
        await session.execute(
            update(LlmProvider).where(LlmProvider.name == "mistral").values(api_key_env="HOME")
        )
    providers = {p["name"]: p for p in (await gql.data(PROVIDERS))["llmProviders"]}
    assert providers["mistral"] == {"name": "mistral", "apiKeyEnv": "HOME", "hasApiKey": False}


async def test_an_anonymous_100_mb_body_is_refused_without_reading_it(
    http: httpx.AsyncClient,
) -> None:
    body = CountedBody(b"x" * 1024 * 1024, 100 * 1024 * 1024)
    response = await http.post("/graphql", content=body, headers={"Content-Type": JSON})
    # The token is checked before the body is read: refused, having read nothing.
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body.sent == 0
    declared = await http.post(
        "/graphql",
        content=b"{}",
        headers={"Content-Type": JSON, "Content-Length": str(100 * 1024 * 1024)},
    )
    assert declared.status_code == 413


@pytest.mark.parametrize(
    ("who", "limit"),
    [
        ("anonymous", ANONYMOUS_BODY_LIMIT),
        ("viewer", VIEWER_BODY_LIMIT),
        ("admin", ADMIN_BODY_LIMIT),
    ],
)
async def test_the_body_limit_depends_on_the_caller_and_applies_while_reading(
    http: httpx.AsyncClient, admin_token: str, viewer_token: str, who: str, limit: int
) -> None:
    token = {"anonymous": None, "viewer": viewer_token, "admin": admin_token}[who]
    headers = {"Content-Type": JSON} | ({"Authorization": f"Bearer {token}"} if token else {})
    # JSON allows any amount of whitespace: only the size of these bodies is wrong.
    operation = b'{"query": "{ __typename }"}'
    too_large = CountedBody(b" " * 64 * 1024, 2 * limit)  # streamed: no Content-Length
    response = await http.post("/graphql", content=too_large, headers=headers)
    if token is None:
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert too_large.sent <= limit + 64 * 1024  # refused as it arrived
    fits = operation + b" " * (limit - len(operation))
    answer = await http.post("/graphql", content=fits, headers=headers)
    assert answer.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        (64 * 1024, "The request body is over 64 KiB (65,536 bytes)."),
        (16 * 1024 * 1024, "The request body is over 16 MiB (16,777,216 bytes)."),
        (1000, "The request body is over 1,000 bytes."),
    ],
)
def test_a_refused_body_is_told_the_limit_as_a_person_reads_it(limit: int, message: str) -> None:
    assert too_large_message(limit) == message


async def test_deep_json_is_a_400_never_a_500(http: httpx.AsyncClient, admin_token: str) -> None:
    headers = {"Authorization": f"Bearer {admin_token}", "Content-Type": JSON}
    for depth in (40, 1000, 100_000):
        variables = "[" * depth + "]" * depth
        body = '{"query": "{ __typename }", "variables": {"v": ' + variables + "}}"
        response = await http.post("/graphql", content=body.encode(), headers=headers)
        assert response.status_code == 400, depth
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "VALIDATION_ERROR"
        assert "nested more than 32 levels" in error["message"]
    anonymous = await http.post("/graphql", content=("[" * 1000).encode(), headers={})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_model_lists_are_bounded_before_any_query(
    seeded_db: Database, gql: GraphQLClient, admin: Principal
) -> None:
    definition = await create_definition(
        seeded_db, admin, name="d", template="Say hi.", scenarios=["hi"]
    )
    many = [f"openai/m{index}" for index in range(20_000)]
    error = await gql.error(ESTIMATE, {"id": str(definition.id), "models": many})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "models"}
    assert f"at most {MAX_MODELS} models (got 20000)" in error["message"]
    more = [f"openai/m{index}" for index in range(50_000)]
    run = {"definitionId": str(definition.id), "models": more}
    error = await gql.error(CREATE_RUN, {"input": run})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "models"}


async def test_a_refused_value_is_echoed_at_most_100_characters(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    huge = "9" * 1_000_000
    error = await gql.error(UPDATE_MODEL, {"id": "1", "input": {"costInputPerMillion": huge}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert len(error["message"]) < 400
    name = "x" * 200_000
    error = await gql.error(f"{{ {name} }}")
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and len(error["message"]) < 400


async def test_a_viewer_is_forbidden_before_the_input_is_validated(
    seeded_db: Database, viewer_gql: GraphQLClient
) -> None:
    error = await viewer_gql.error(
        UPDATE_MODEL, {"id": "1", "input": {"costInputPerMillion": -1, "displayName": "\x00"}}
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await viewer_gql.error(
        CREATE_RUN, {"input": {"definitionId": "1", "models": ["x"] * 5000}}
    )
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_api_answers_are_not_stored_by_caches(
    http: httpx.AsyncClient, admin_token: str
) -> None:
    for headers in ({"Authorization": f"Bearer {admin_token}"}, {}):
        response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert response.headers["cache-control"] == "no-store"
    assert "no-store" not in (await http.get("/graphql/assets/graphiql.min.js")).headers.get(
        "cache-control", ""
    )


async def test_token_audit_entries_are_for_admins_only(
    seeded_db: Database, gql: GraphQLClient, viewer_gql: GraphQLClient
) -> None:
    """The admin and viewer tokens of the fixtures were created, and so audited."""
    admin_sees = {e["entityType"] for e in (await gql.data(AUDIT))["auditLog"]["entries"]}
    viewer_sees = {e["entityType"] for e in (await viewer_gql.data(AUDIT))["auditLog"]["entries"]}
    assert "token" in admin_sees
    assert "token" not in viewer_sees
    only_tokens = '{ auditLog(entityType: "token") { entries { action } } }'
    assert (await viewer_gql.data(only_tokens))["auditLog"]["entries"] == []
    assert json.dumps(await gql.data(only_tokens)).count("token.create") == 2

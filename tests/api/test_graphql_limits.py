"""Refused requests: too deep, too wide, too long, malformed, or when the database is away."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from api_app import close_app, make_app
from graphql import GraphQLError, get_introspection_query
from graphql_client import GraphQLClient

from modeldesk.api.errors import INTERNAL_ERROR_CODE, format_graphql_error
from modeldesk.api.schema import MAX_ALIASES, MAX_DEPTH
from modeldesk.db.session import Database


def nested(depth: int) -> str:
    """llmProviders { models { provider { models { ... { id } } } } }, `depth` levels deep."""
    names = ["llmProviders"] + ["models" if n % 2 else "provider" for n in range(1, depth)]
    return "{ " + " { ".join(names) + " { id" + " }" * depth + " }"


async def test_depth_up_to_the_limit_runs_and_beyond_is_refused(
    seeded_db: Database, gql: GraphQLClient
) -> None:
    assert "llmProviders" in await gql.data(nested(MAX_DEPTH - 1))
    error = await gql.error(nested(MAX_DEPTH + 1))
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "exceeds maximum operation depth" in error["message"]


async def test_too_many_aliases_are_refused(seeded_db: Database, gql: GraphQLClient) -> None:
    aliases = " ".join(f"a{n}: llmProviders {{ id }}" for n in range(MAX_ALIASES + 1))
    error = await gql.error(f"{{ {aliases} }}")
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "aliases" in error["message"]


async def test_too_many_tokens_are_refused(seeded_db: Database, gql: GraphQLClient) -> None:
    fields = " ".join(["id name"] * 1200)
    error = await gql.error(f"{{ llmProviders {{ {fields} }} }}")
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "token" in error["message"].lower()


async def test_graphiql_introspection_passes_the_limits(db: Database, gql: GraphQLClient) -> None:
    data = await gql.data(get_introspection_query())
    assert data["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "must be JSON"),
        (b'[{"query": "{ __typename }"}]', "one operation"),
        (b'{"variables": {}}', 'no "query"'),
        (b'{"query": "{ __typename }", "variables": [1]}', '"variables" must be'),
        (b'{"query": "{ __typename }", "operationName": 3}', '"operationName" must be'),
    ],
)
async def test_malformed_requests_are_400_with_a_code(
    http: httpx.AsyncClient, admin_token: str, body: bytes, message: str
) -> None:
    response = await http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert message in error["message"]


@pytest.mark.parametrize(
    ("document", "operation", "message"),
    [
        ("subscription { llmProviders { id } }", None, "Subscription operations"),
        ("query A { __typename }", "B", "No operation named 'B'"),
        ("{ llmProviders { id }", None, "Syntax Error"),
    ],
)
async def test_documents_that_cannot_run_are_validation_errors(
    db: Database,
    http: httpx.AsyncClient,
    admin_token: str,
    document: str,
    operation: str | None,
    message: str,
) -> None:
    payload: dict[str, Any] = {"query": document, "operationName": operation}
    response = await http.post(
        "/graphql", json=payload, headers={"Authorization": f"Bearer {admin_token}"}
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert message in error["message"]


async def test_an_unreachable_database_is_a_retryable_503(database_url: str) -> None:
    missing = Database(database_url.rsplit("/", 1)[0] + "/modeldesk_no_such_database")
    app = make_app(missing)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://md.test") as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ llmProviders { id } }"},
                headers={"Authorization": "Bearer mdk_anything"},
            )
    finally:
        await close_app(app)
        await missing.dispose()
    assert response.status_code == 503
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "UNAVAILABLE", "retryable": True}
    assert "database cannot be reached" in error["message"]


def test_an_unexpected_error_is_logged_and_hidden(caplog: pytest.LogCaptureFixture) -> None:
    cause = RuntimeError('relation "llm_models" does not exist: SELECT * FROM llm_models')
    error = GraphQLError("boom", path=["llmModels"], original_error=cause)
    with caplog.at_level(logging.ERROR, logger="modeldesk.api.errors"):
        body = format_graphql_error(error, "Catalogue")
    assert body["extensions"] == {"code": INTERNAL_ERROR_CODE}
    assert "SELECT" not in body["message"] and "relation" not in body["message"]
    assert body["path"] == ["llmModels"]
    assert "Catalogue" in caplog.text and "llmModels" in caplog.text
    assert caplog.records[0].exc_info is not None

"""A database that cannot be reached is UNAVAILABLE (retryable, HTTP 503), never PROVIDER_ERROR.

Here the database is "down" as a refused connection (nothing listens on port
1); tests/queue/test_database_crash.py shows the same answers from `serve`
while a real PostgreSQL is stopped with `pg_ctl stop -m immediate`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from api_app import app_on
from fastapi import FastAPI

from modeldesk.api.endpoint import GraphQLEndpoint
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.errors import DatabaseUnavailableError, ErrorCode

DOWN_URL = "postgresql://nobody@127.0.0.1:1/modeldesk"
UNAVAILABLE = {"code": "UNAVAILABLE", "retryable": True}


@pytest.fixture
async def down() -> AsyncIterator[Database]:
    database = Database(DOWN_URL)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def app_on_a_down_database(down: Database) -> AsyncIterator[FastAPI]:
    async with app_on(down) as app:
        yield app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://md.test")


def test_the_code_is_unavailable_and_retryable() -> None:
    error = DatabaseUnavailableError("down")
    assert (error.code, error.retryable) == (ErrorCode.UNAVAILABLE, True)
    assert ErrorCode.UNAVAILABLE.value == "UNAVAILABLE"


async def test_healthz_and_graphql_answer_503_when_the_database_is_down(
    app_on_a_down_database: FastAPI,
) -> None:
    async with _client(app_on_a_down_database) as http:
        health = await http.get("/healthz")
        answer = await http.post(
            "/graphql",
            json={"query": "{ llmProviders { id } }"},
            headers={"Authorization": "Bearer mdk_anything"},
        )
    assert (health.status_code, health.json()["database"]) == (503, "unreachable")
    assert answer.status_code == 503
    (error,) = answer.json()["errors"]
    assert error["extensions"] == UNAVAILABLE
    assert "database cannot be reached" in error["message"]


async def test_a_database_lost_after_sign_in_is_a_503_not_an_internal_error(
    app: FastAPI,
    admin_token: str,
    down: Database,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The token checked out, then the database went: the resolvers' own reads fail."""
    endpoint: GraphQLEndpoint = app.state.graphql
    endpoint.context = AppContext(
        settings=Settings(database_url=database_url), db=down, owns_embedded_server=False
    )
    headers = {"Authorization": f"Bearer {admin_token}"}
    document = "{ llmProviders { id } definitions { id } }"
    mutation = (
        'mutation { createDefinition(input: {name: "n", template: "t"}) { definition { id } } }'
    )
    with caplog.at_level(logging.ERROR, logger="modeldesk.api.errors"):
        async with _client(app) as http:
            read = await http.post("/graphql", json={"query": document}, headers=headers)
            write = await http.post("/graphql", json={"query": mutation}, headers=headers)

    for answer in (read, write):
        assert answer.status_code == 503, answer.text
        errors = answer.json()["errors"]
        assert errors and all(error["extensions"] == UNAVAILABLE for error in errors)
    assert not caplog.records  # an outage is not logged as an unexpected error

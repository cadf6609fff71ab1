"""Requests no GraphQL generator writes: what only the JSON around a document can carry.

A lone surrogate or a NUL travels only in variables (the GraphQL lexer refuses
them in a document), and a number of thousands of digits or JSON nested
thousands deep only in the body. Each must be answered with a code, never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql_client import GraphQLClient

from modeldesk.db.session import Database

SET_WITH_KEY = """mutation($k: String!, $v: JSON!) {
    updateSystemSetting(input: {key: $k, value: $v}) { setting { key } } }"""
CREATE_TOKEN = (
    "mutation($n: String!) { createApiToken(input: {role: VIEWER, name: $n}) { plainToken } }"
)
CREATE_DEFINITION = """mutation($t: String!, $s: [String!]) {
    createDefinition(input: {name: "d", template: $t, scenarios: $s}) { definition { id } } }"""


async def _post_raw(gql: GraphQLClient, body: str) -> dict[str, Any]:
    """The body as given: ASCII JSON escapes a lone surrogate, which httpx's encoder refuses."""
    response = await gql.http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _codes(answer: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors", [])]


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (SET_WITH_KEY, {"k": "banner", "v": {"text": "hi\u0000"}}, "value"),
        (SET_WITH_KEY, {"k": "banner", "v": {"\ud800": 1}}, "value"),
        (SET_WITH_KEY, {"k": "banner", "v": "[" * 100_000}, "value"),
        (SET_WITH_KEY, {"k": "ban\u0000ner", "v": 1}, "key"),
        (CREATE_TOKEN, {"n": "ci\ud83d"}, "name"),
        (CREATE_TOKEN, {"n": "ci\u0000"}, "name"),
        (CREATE_DEFINITION, {"t": "Hi\ufffe\u0000"}, "template"),
        (CREATE_DEFINITION, {"t": "Hi", "s": ["ok", "\udc00"]}, "scenarios[1]"),
    ],
)
async def test_unstorable_variables_are_refused_naming_the_field(
    seeded_db: Database, gql: GraphQLClient, query: str, variables: dict[str, Any], field: str
) -> None:
    answer = await _post_raw(gql, json.dumps({"query": query, "variables": variables}))
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": field}


HUGE = "1" * 5000  # beyond the 4300 digits Python parses as an int


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        (
            '{"query": "{ llmProviders { id } }", "variables": {"v": ' + HUGE + "}}",
            ["VALIDATION_ERROR"],
        ),
        (
            '{"query": "{ llmProviders { id } }", "variables": '
            + "[" * 50_000
            + "]" * 50_000
            + "}",
            ["VALIDATION_ERROR"],
        ),
        (
            json.dumps({"query": "{ llmProviders { id } }", "operationName": "\ud800"}),
            ["VALIDATION_ERROR"],
        ),
        (
            json.dumps(
                {
                    "query": "mutation { updateLlmProvider(id: 1, input: {maxParallelRequests: "
                    + HUGE
                    + "}) { provider { id } } }"
                }
            ),
            ["VALIDATION_ERROR"],
        ),
        (
            json.dumps(
                {
                    "query": 'mutation { updateSystemSetting(input: {key: "k", value: '
                    + HUGE
                    + "}) { setting { key } } }"
                }
            ),
            ["VALIDATION_ERROR"],
        ),
        (json.dumps({"query": "{ llmModel(id: " + HUGE + ") { id } }"}), []),
    ],
    ids=[
        "huge-variable",
        "deep-variables",
        "surrogate-operation-name",
        "huge-int",
        "huge-json",
        "huge-id-is-null",
    ],
)
async def test_malformed_bodies_are_validation_errors(
    seeded_db: Database, gql: GraphQLClient, body: str, codes: list[str]
) -> None:
    assert _codes(await _post_raw(gql, body)) == codes

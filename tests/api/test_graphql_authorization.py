"""The authorization matrix, walked over the schema itself.

Every mutation (and query) is enumerated from the executable schema, so a field
added later without its guard fails here rather than in production.
"""

from __future__ import annotations

import httpx
import pytest
from catalog_snapshot import catalogue_snapshot
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
)
from graphql_client import GraphQLClient

from modeldesk.api.permissions import IsAdmin
from modeldesk.api.schema import schema
from modeldesk.db.session import Database

SCALAR_LITERALS = {
    "ID": '"1"',
    "String": '"probe"',
    "Int": "1",
    "Float": "1.5",
    "Boolean": "false",
    "JSON": '"{}"',
}
ADMIN_ONLY_QUERIES = {"apiTokens"}


def literal(type_: GraphQLInputType) -> str:
    """A valid literal of `type_`, filling only what is required."""
    if isinstance(type_, GraphQLNonNull):
        return literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return f"[{literal(type_.of_type)}]"
    if isinstance(type_, GraphQLEnumType):
        return str(next(iter(type_.values)))
    if isinstance(type_, GraphQLInputObjectType):
        required = [
            f"{name}: {literal(field.type)}"
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        ]
        return "{" + ", ".join(required) + "}"
    return SCALAR_LITERALS[type_.name]


def operation(kind: str, name: str, field: GraphQLField) -> str:
    args = [
        f"{arg_name}: {literal(arg.type)}"
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull)
    ]
    arguments = f"({', '.join(args)})" if args else ""
    return f"{kind} {{ {name}{arguments} {{ __typename }} }}"


def root_fields(kind: str) -> list[tuple[str, str]]:
    root = schema._schema.mutation_type if kind == "mutation" else schema._schema.query_type
    assert isinstance(root, GraphQLObjectType)
    return [(name, operation(kind, name, field)) for name, field in root.fields.items()]


MUTATIONS = root_fields("mutation")
QUERIES = root_fields("query")


def codes(body: dict[str, object]) -> set[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return {error["extensions"]["code"] for error in errors}


def test_the_walk_covers_the_whole_catalogue_api() -> None:
    names = {name for name, _ in MUTATIONS}
    assert {
        "createLlmModel", "updateLlmModel", "deprecateLlmModel", "reactivateLlmModel",
        "setDefaultModel", "updateLlmProvider", "createLlmProvider", "updateSystemSetting",
        "createApiToken", "revokeApiToken",
    } <= names  # fmt: skip
    assert len(QUERIES) >= 11


@pytest.mark.parametrize("name", [name for name, _ in MUTATIONS])
def test_every_mutation_carries_the_admin_guard(name: str) -> None:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    definition = mutation.fields[name].extensions["strawberry-definition"]
    assert IsAdmin in definition.permission_classes


@pytest.mark.parametrize(("name", "document"), MUTATIONS + QUERIES)
async def test_no_token_or_a_bad_token_is_unauthenticated_and_changes_nothing(
    seeded_db: Database, gql: GraphQLClient, name: str, document: str
) -> None:
    before = await catalogue_snapshot(seeded_db)
    gql.token = None
    assert codes(await gql.post(document)) == {"UNAUTHENTICATED"}, name
    assert codes(await gql.post(document, token="mdk_not-a-real-token")) == {"UNAUTHENTICATED"}
    assert await catalogue_snapshot(seeded_db) == before


@pytest.mark.parametrize(("name", "document"), MUTATIONS)
async def test_a_viewer_is_forbidden_every_mutation_and_changes_nothing(
    seeded_db: Database, viewer_gql: GraphQLClient, name: str, document: str
) -> None:
    before = await catalogue_snapshot(seeded_db)
    body = await viewer_gql.post(document)
    assert codes(body) == {"FORBIDDEN"}, (name, body)
    assert body["data"] is None
    assert await catalogue_snapshot(seeded_db) == before


@pytest.mark.parametrize(("name", "document"), MUTATIONS + QUERIES)
async def test_an_admin_passes_every_guard(
    seeded_db: Database, gql: GraphQLClient, name: str, document: str
) -> None:
    body = await gql.post(document)
    # The placeholder arguments may well be refused on their merits (unknown id, bad
    # value); what matters is that the admin got past authentication and authorization.
    assert not codes(body) & {"UNAUTHENTICATED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"}, body


@pytest.mark.parametrize(("name", "document"), QUERIES)
async def test_a_viewer_reads_everything_but_tokens(
    seeded_db: Database, viewer_gql: GraphQLClient, name: str, document: str
) -> None:
    found = codes(await viewer_gql.post(document))
    if name in ADMIN_ONLY_QUERIES:
        assert found == {"FORBIDDEN"}
    else:
        assert not found & {"UNAUTHENTICATED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"}, name


async def test_authorization_header_forms(seeded_db: Database, http: httpx.AsyncClient) -> None:
    client = GraphQLClient(http, None)
    for header in ("Basic abc", "Bearer", "Bearer    ", "token-without-scheme"):
        response = await http.post(
            "/graphql", json={"query": "{ llmProviders { id } }"}, headers={"Authorization": header}
        )
        assert codes(response.json()) == {"UNAUTHENTICATED"}
    body = await client.post("{ llmProviders { id } }")
    assert body["errors"][0]["message"] == "Sign in: send 'Authorization: Bearer <token>'."


async def test_graphiql_page_needs_no_token_but_get_runs_nothing(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    api_get = await http.get("/graphql", params={"query": "{ llmProviders { id } }"})
    assert api_get.status_code == 405
    assert codes(api_get.json()) == {"VALIDATION_ERROR"}

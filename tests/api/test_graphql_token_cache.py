"""Tokens remembered in memory, yet a revocation anywhere is refused by the very next request
in every process; and a cached read costs one shared version query, nothing else."""

from __future__ import annotations

import asyncio

from api_app import Process, wait_for
from sqlalchemy import text
from statement_counter import StatementCounter

from modeldesk import catalog
from modeldesk.api.token_cache import TokenCache
from modeldesk.auth import Principal, create_token, revoke_token
from modeldesk.db.session import Database
from modeldesk.enums import Role

CATALOGUE = "{ llmProviders { name models { modelId isAvailable } } }"
CREATE_VIEWER = """mutation($name: String!) {
    createApiToken(input: {role: VIEWER, name: $name}) { plainToken token { id } } }"""
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) { token { isRevoked } } }"


def code(body: dict[str, object]) -> object:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return errors[0]["extensions"]["code"]


async def test_a_cached_read_runs_one_shared_version_query_and_nothing_else(
    processes: list[Process],
) -> None:
    process = processes[0]
    await process.client.data(CATALOGUE)
    await process.client.data(CATALOGUE)  # the token and the answer are both remembered now
    listener = process.endpoint.listener
    queries, hits = listener.version_queries, process.cache.hits
    counter = StatementCounter(process.endpoint.context.db)
    try:
        for _ in range(5):
            await process.client.data(CATALOGUE)
    finally:
        counter.close()
    assert counter.statements == []
    assert process.cache.hits == hits + 5
    assert listener.version_queries == queries + 5


async def test_concurrent_requests_share_version_queries(processes: list[Process]) -> None:
    process = processes[0]
    await process.client.data(CATALOGUE)
    before = process.endpoint.listener.version_queries
    bodies = await asyncio.gather(*(process.client.post(CATALOGUE) for _ in range(20)))
    assert all("errors" not in body for body in bodies)
    assert process.endpoint.listener.version_queries - before < 20


async def test_a_token_revoked_through_one_process_is_refused_at_once_by_another(
    processes: list[Process],
) -> None:
    writer, reader = processes
    for n in range(5):
        created = (await writer.client.data(CREATE_VIEWER, {"name": f"viewer {n}"}))[
            "createApiToken"
        ]
        token = created["plainToken"]
        for _ in range(2):
            assert "errors" not in await reader.client.post(CATALOGUE, token=token)
        assert len(reader.endpoint.tokens) >= 1  # the viewer's token is remembered
        await writer.client.data(REVOKE, {"id": created["token"]["id"]})
        assert code(await reader.client.post(CATALOGUE, token=token)) == "UNAUTHENTICATED"


async def test_once_sync_returns_every_earlier_change_has_reached_the_caches(
    processes: list[Process], seeded_db: Database, admin: Principal
) -> None:
    """What makes the caches exact: no request is answered before the changes that committed
    ahead of it have been applied, whether or not the notification had arrived yet."""
    process = processes[1]
    endpoint = process.endpoint
    for n in range(10):
        row, token = await create_token(seeded_db, role="viewer", name=f"v{n}")
        assert "errors" not in await process.client.post(CATALOGUE, token=token)
        assert len(endpoint.tokens) > 0 and len(process.cache) > 0
        await revoke_token(seeded_db, row.id)
        await catalog.update_provider(
            seeded_db, admin, 1, catalog.ProviderUpdate(requests_per_minute=100 + n)
        )
        version = await endpoint.listener.sync()
        assert len(endpoint.tokens) == 0 and len(process.cache) == 0
        assert version == await catalog.current_catalog_version(seeded_db)


async def test_while_the_listener_is_down_every_request_looks_its_token_up(
    processes: list[Process], seeded_db: Database, viewer_token: str
) -> None:
    reader = processes[0]
    await reader.client.data(CATALOGUE)
    listener = reader.endpoint.listener
    assert listener._connection is not None
    pid = listener._connection.get_server_pid()
    async with seeded_db.session() as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await wait_for(lambda: not listener.connected)
    assert len(reader.endpoint.tokens) == 0

    counter = StatementCounter(reader.endpoint.context.db)
    try:
        for _ in range(3):
            assert "errors" not in await reader.client.post(CATALOGUE, token=viewer_token)
    finally:
        counter.close()
    token_lookups = [s for s in counter.statements if "FROM api_tokens" in s]
    assert len(token_lookups) == 3
    assert len(reader.endpoint.tokens) == 0


def test_the_token_cache_keeps_nothing_looked_up_before_a_change() -> None:
    tokens = TokenCache(max_entries=2)
    someone = Principal(name="someone", role=Role.VIEWER)
    generation = tokens.generation
    tokens.clear()  # a token change was heard while the lookup ran
    tokens.put("hash-1", someone, generation)
    assert tokens.get("hash-1") is None

    for n in range(3):
        tokens.put(f"hash-{n}", someone, tokens.generation)
    assert len(tokens) <= 2 and tokens.get("hash-2") == someone

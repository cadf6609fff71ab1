"""The response cache: used for catalogue reads, never stale in any process, bypassed when
the change notifications cannot be heard."""

from __future__ import annotations

import pytest
from api_app import Process, wait_for
from sqlalchemy import text

from modeldesk import catalog
from modeldesk.auth import Principal, list_tokens, revoke_token
from modeldesk.db.session import Database

CATALOGUE = "{ llmProviders { name models { modelId costInputPerMillion isDefault status } } }"
UPDATE_PRICE = """mutation($id: ID!, $price: Float!) {
    updateLlmModel(id: $id, input: {costInputPerMillion: $price}) { model { id } } }"""


def openai_mini_price(data: dict[str, list[dict[str, object]]]) -> object:
    models = data["llmProviders"][0]["models"]
    assert isinstance(models, list)
    return models[0]["costInputPerMillion"]


async def test_a_repeated_read_is_answered_from_the_cache(processes: list[Process]) -> None:
    reader = processes[0]
    first = await reader.client.post(CATALOGUE)
    hits = reader.cache.hits
    second = await reader.client.post(CATALOGUE)
    assert second == first
    assert reader.cache.hits == hits + 1


async def test_a_change_through_one_process_is_read_at_once_through_another(
    processes: list[Process],
) -> None:
    writer, reader = processes
    for price in (0.3, 0.35, 0.4, 0.45, 0.5):
        await reader.client.data(CATALOGUE)
        assert len(reader.cache) == 1  # warm: the next read could be a hit
        await writer.client.data(UPDATE_PRICE, {"id": "1", "price": price})
        assert openai_mini_price(await reader.client.data(CATALOGUE)) == price
        assert openai_mini_price(await writer.client.data(CATALOGUE)) == price


async def test_a_change_made_outside_the_api_is_read_at_once(
    processes: list[Process], seeded_db: Database, admin: Principal
) -> None:
    reader = processes[1]
    before = await reader.client.data(CATALOGUE)
    assert before["llmProviders"][0]["models"][0]["isDefault"] is True
    await catalog.set_default_model(seeded_db, admin, 2)
    after = await reader.client.data(CATALOGUE)
    assert after["llmProviders"][0]["models"][0]["isDefault"] is False
    assert after["llmProviders"][0]["models"][1]["isDefault"] is True


async def test_the_listener_drops_superseded_entries_when_a_change_commits(
    processes: list[Process], seeded_db: Database, admin: Principal
) -> None:
    reader = processes[1]
    await reader.client.data(CATALOGUE)
    assert len(reader.cache) == 1
    await catalog.reactivate_model(seeded_db, admin, 1)  # already active: no change, no bump
    await catalog.update_provider(seeded_db, admin, 1, catalog.ProviderUpdate(is_enabled=False))
    await wait_for(lambda: len(reader.cache) == 0)


async def test_without_the_listener_the_cache_is_bypassed_until_it_reconnects(
    processes: list[Process], seeded_db: Database
) -> None:
    reader = processes[0]
    listener = reader.endpoint.listener
    assert listener is not None and listener._connection is not None
    pid = listener._connection.get_server_pid()
    # Nothing listens on port 1: the listener stays down until the reads below are done,
    # instead of racing them with its 0.2 s reconnect.
    reachable_dsn, listener._dsn = listener._dsn, "postgresql://postgres@127.0.0.1:1/none"
    async with seeded_db.session() as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await wait_for(lambda: not listener.connected)

    hits = reader.cache.hits
    for _ in range(3):
        await reader.client.data(CATALOGUE)
    assert reader.cache.hits == hits  # executed every time
    assert not listener.connected

    listener._dsn = reachable_dsn
    await wait_for(lambda: listener.connected)
    await reader.client.data(CATALOGUE)
    await reader.client.data(CATALOGUE)
    assert reader.cache.hits == hits + 1


@pytest.mark.parametrize(
    "document",
    [
        "{ auditLog { entries { id } } }",
        "{ apiTokens { id } }",
        '{ infraModel(purpose: "nope") { isFallback } }',
        "{ llmProviders { id } apiTokens { id } }",
        "fragment F on Query { llmProviders { id } } query { ...F }",
        'mutation { updateLlmProvider(id: "1", input: {}) { provider { id } } }',
    ],
)
async def test_only_error_free_catalogue_reads_are_kept(
    processes: list[Process], document: str
) -> None:
    process = processes[0]
    for _ in range(2):
        await process.client.post(document)
    assert len(process.cache) == 0
    assert process.cache.hits == 0


async def test_roles_have_their_own_entries_and_a_revoked_token_reads_nothing(
    processes: list[Process], seeded_db: Database, viewer_token: str
) -> None:
    process = processes[0]
    await process.client.data(CATALOGUE)
    viewer_body = await process.client.post(CATALOGUE, token=viewer_token)
    assert "errors" not in viewer_body
    assert len(process.cache) == 2

    viewer_id = next(row.id for row in await list_tokens(seeded_db) if row.role == "viewer")
    await revoke_token(seeded_db, viewer_id)
    refused = await process.client.post(CATALOGUE, token=viewer_token)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused["data"] is None

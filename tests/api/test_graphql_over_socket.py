"""The API through a real uvicorn socket, as `modeldesk serve` runs it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from api_app import make_app

from modeldesk.db.session import Database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def base_url(seeded_db: Database) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(make_app(seeded_db), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task  # the lifespan closes the endpoint's pool and listener


async def test_reads_and_a_mutation_over_a_real_socket(base_url: str, admin_token: str) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    query = {"query": "{ llmProviders { name models { modelId costOutputPerMillion } } }"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
        first = (await client.post("/graphql", json=query)).json()
        assert first["data"]["llmProviders"][0]["models"][0]["costOutputPerMillion"] == 2.0
        change = {
            "query": 'mutation { updateLlmModel(id: "1", input: {costOutputPerMillion: 2.5}) '
            "{ model { costOutputPerMillion } } }"
        }
        changed = (await client.post("/graphql", json=change)).json()
        assert changed["data"]["updateLlmModel"]["model"]["costOutputPerMillion"] == 2.5
        second = (await client.post("/graphql", json=query)).json()
        assert second["data"]["llmProviders"][0]["models"][0]["costOutputPerMillion"] == 2.5
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        anonymous = await httpx.AsyncClient(base_url=base_url).post("/graphql", json=query)
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

"""The API through a real uvicorn socket, as `modeldesk serve` runs it; GraphiQL in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_app import make_app
from playwright.async_api import async_playwright

from modeldesk.db.session import Database
from modeldesk.testing.chromium import CHROMIUM, launch_chromium
from modeldesk.testing.live_server import LiveServer


@pytest.fixture
async def base_url(seeded_db: Database) -> AsyncIterator[str]:
    # Leaving the block runs the lifespan, which closes the endpoint's pool and listener.
    async with LiveServer(make_app(seeded_db)) as server:
        yield server.url


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


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed")
async def test_graphiql_runs_a_query_in_chromium_from_this_server_alone(
    base_url: str, admin_token: str
) -> None:
    requested: list[str] = []
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            page = await browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            await page.goto(base_url + "/graphql")
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            await editor.wait_for(timeout=15_000)
            assert "llmProviders" in await editor.inner_text()
            await page.locator(".graphiql-editor-tool .CodeMirror").last.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.type(f'{{"Authorization": "Bearer {admin_token}"}}')
            await page.locator(".graphiql-execute-button").click()
            await page.locator(".result-window", has_text="gpt-5-mini").wait_for(timeout=15_000)
        finally:
            await browser.close()
    assert problems == []
    assert requested and all(url.startswith(base_url + "/") for url in requested), requested

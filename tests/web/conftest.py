"""Fixtures for the UI's handler tests: the real app over ASGI, signed in as admin or viewer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, async_playwright
from web_ui_client import UiClient, asgi_client, signed_in

from modeldesk.app import create_app
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.testing.chromium import CHROMIUM, launch_chromium
from modeldesk.testing.live_server import LiveServer


@pytest.fixture
def context(seeded_db: Database, database_url: str, tmp_path: Path) -> AppContext:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    return AppContext(settings=settings, db=seeded_db, owns_embedded_server=False)


@pytest.fixture
def app(context: AppContext) -> FastAPI:
    return create_app(context)


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
async def admin_ui(app: FastAPI, seeded_db: Database) -> AsyncIterator[UiClient]:
    client = await signed_in(app, seeded_db, "admin")
    yield client
    await client.http.aclose()


@pytest.fixture
async def viewer_ui(app: FastAPI, seeded_db: Database) -> AsyncIterator[UiClient]:
    client = await signed_in(app, seeded_db, "viewer")
    yield client
    await client.http.aclose()


# --- the browser tests: one uvicorn and one Chromium for the whole session ---

HAVE_CHROMIUM = CHROMIUM.exists()


@pytest.fixture(scope="session")
async def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    settings = Settings(database_url=database_url, data_dir=tmp_path_factory.mktemp("live"))
    context = AppContext(settings=settings, db=Database(database_url), owns_embedded_server=False)
    server = LiveServer(create_app(context))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        await context.db.dispose()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.skip("Chromium is not installed: run `make chromium`")
    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        yield chromium
        await chromium.close()


@pytest.fixture
async def browser_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    await context.close()

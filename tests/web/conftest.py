"""Fixtures for the UI's tests: the real app over ASGI, signed in as admin or viewer, and
signed-in Chromium pages that must log no console error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, async_playwright
from web_browser import SignedInPage, SignInPage, sign_in
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


# A test whose page shows a refusal Chromium logs as an error names it with this mark.
CONSOLE_ERRORS_SHOWN = "console_errors_shown"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{CONSOLE_ERRORS_SHOWN}(*fragments): console errors containing one of these are "
        "expected (the page shows the failure), not a fault",
    )


@pytest.fixture
async def sign_in_page(
    request: pytest.FixtureRequest, browser_context: BrowserContext, live_server: LiveServer
) -> AsyncIterator[SignInPage]:
    """Sign in pages by role and name; each must have logged no console error by the test's end.

    A CSP violation or a script error is one; errors the test's `console_errors_shown`
    mark names are not.
    """
    mark = request.node.get_closest_marker(CONSOLE_ERRORS_SHOWN)
    shown: tuple[str, ...] = mark.args if mark else ()
    pages: list[SignedInPage] = []

    async def sign_in_as(db: Database, role: str, name: str) -> SignedInPage:
        page = await sign_in(browser_context, live_server, db, role, name)
        pages.append(page)
        return page

    yield sign_in_as
    for page in pages:
        assert [e for e in page.errors if not any(part in e for part in shown)] == []


@pytest.fixture
async def admin_page(sign_in_page: SignInPage, seeded_db: Database) -> SignedInPage:
    return await sign_in_page(seeded_db, "admin", "alice")

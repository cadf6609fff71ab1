"""A signed-in Chromium page for the browser tests (collecting console errors), and a worker."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import BrowserContext, ConsoleMessage, Page

from modeldesk.auth import create_token
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.queue.worker import run_worker
from modeldesk.testing.live_server import LiveServer

# Chromium logs every 4xx answer; a refusal the page shows (403, 409, 422) is not an error.
_REFUSAL = re.compile(r"Failed to load resource: .* status of (403|409|422)\b")


@dataclass
class SignedInPage:
    page: Page
    base_url: str
    errors: list[str] = field(default_factory=list)

    async def goto(self, path: str) -> None:
        await self.page.goto(self.base_url + path)

    async def mark_document(self) -> None:
        """Tag the loaded document; `still_same_document` then proves no full reload happened."""
        await self.page.evaluate("window.__modeldeskMark = true")

    async def still_same_document(self) -> bool:
        return bool(await self.page.evaluate("window.__modeldeskMark === true"))


# The `sign_in_page` fixture: a page signed in to the database given, by role and name.
SignInPage = Callable[[Database, str, str], Awaitable[SignedInPage]]


async def sign_in(
    context: BrowserContext, server: LiveServer, db: Database, role: str, name: str
) -> SignedInPage:
    _, token = await create_token(db, role=role, name=name)
    page = await context.new_page()
    signed_in = SignedInPage(page, server.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _REFUSAL.search(message.text):
            signed_in.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: signed_in.errors.append(str(error)))
    await page.goto(f"{server.url}/login?token={token}")
    confirm = page.locator("#confirm-sign-in")
    if await confirm.count():  # someone else is signed in in this context: switching asks first
        async with page.expect_navigation():
            await confirm.click()
    return signed_in


@asynccontextmanager
async def in_process_worker(settings: Settings) -> AsyncIterator[None]:
    """A worker on this event loop, on a pool of its own, stopped when leaving."""
    assert settings.database_url is not None
    db = Database(settings.database_url)
    shutdown = asyncio.Event()
    context = AppContext(settings=settings, db=db, owns_embedded_server=False)
    task = asyncio.create_task(run_worker(context, shutdown=shutdown))
    try:
        yield
    finally:
        shutdown.set()
        await asyncio.wait_for(task, timeout=30)
        await db.dispose()


async def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Photograph the page for the docs, only under `make screenshots`.

    That target sets `MODELDESK_SCREENSHOTS_DIR`; a plain test run leaves the tree clean.
    """
    directory = os.environ.get("MODELDESK_SCREENSHOTS_DIR")
    if not directory:
        return
    # Playwright creates the directory.
    await page.screenshot(path=Path(directory) / name, full_page=full_page)

"""The main catalogue pages in Chromium, photographed for the docs by `make screenshots`.

The run pages are photographed by the end-to-end run tests, once their run has finished.
A plain test run checks the pages and writes nothing.
"""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect
from web_browser import save_screenshot, sign_in
from web_catalog_reads import model_row

from modeldesk.auth.principal import Principal
from modeldesk.catalog import deprecate_model, set_default_model
from modeldesk.db.session import Database
from modeldesk.testing.live_server import LiveServer


@pytest.fixture
async def catalogue(seeded_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The seed catalogue as an operator would have it: a few keys set, one model retired."""
    for variable in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEEPSEEK_API_KEY"):
        monkeypatch.setenv(variable, "sk-screenshot")
    actor = Principal.system("alice")
    await deprecate_model(seeded_db, actor, (await model_row(seeded_db, "grok-4-0709")).id)
    await set_default_model(seeded_db, actor, (await model_row(seeded_db, "gpt-5.1")).id)
    return seeded_db


async def test_screenshots_of_the_catalogue_pages(
    browser_context: BrowserContext, live_server: LiveServer, catalogue: Database
) -> None:
    admin = await sign_in(browser_context, live_server, catalogue, "admin", "alice")
    page = admin.page
    await expect(page.locator(".provider-card")).to_have_count(6)
    await save_screenshot(page, "models.png")

    await page.get_by_role("button", name="Add model").click()
    dialog = page.locator("#add-model-dialog")
    await dialog.get_by_label("Model id").fill("gpt-5-nano")
    await dialog.get_by_label("Display name").fill("GPT-5 nano")
    await dialog.get_by_label("Input price (USD per 1M tokens)").fill("0.05")
    await dialog.get_by_label("Output price (USD per 1M tokens)").fill("0.40")
    await save_screenshot(page, "add-model-dialog.png", full_page=False)
    await page.keyboard.press("Escape")

    await page.set_viewport_size({"width": 400, "height": 860})
    await page.reload()
    # At 400 px the cards stack and each table scrolls inside its card, not the page.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 400
    await save_screenshot(page, "models-400px.png", full_page=False)

    await page.set_viewport_size({"width": 1280, "height": 900})
    await admin.goto("/settings/infrastructure")
    await expect(page.locator(".purpose-card")).to_have_count(3)
    await save_screenshot(page, "infrastructure.png")

    await admin.goto("/audit")
    await save_screenshot(page, "audit.png")
    assert admin.errors == []

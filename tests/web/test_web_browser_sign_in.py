"""In Chromium: a link that would sign a signed-in admin in as someone else asks first."""

from __future__ import annotations

from playwright.async_api import BrowserContext, expect
from web_browser import sign_in

from modeldesk.auth import create_token
from modeldesk.db.session import Database
from modeldesk.testing.live_server import LiveServer


async def test_signing_in_as_someone_else_asks_for_confirmation(
    browser_context: BrowserContext, live_server: LiveServer, seeded_db: Database
) -> None:
    admin = await sign_in(browser_context, live_server, seeded_db, "admin", "alice")
    page = admin.page
    whoami = page.locator(".whoami-name")
    await expect(whoami).to_have_text("alice")
    _, viewer_token = await create_token(seeded_db, role="viewer", name="mallory")

    # What a page elsewhere would do: send the browser to a sign-in URL with its token.
    await admin.goto(f"/login?token={viewer_token}&next=/runs")
    await expect(page.get_by_role("heading", name="Sign in as mallory?")).to_be_visible()
    await page.get_by_role("link", name="Stay signed in as alice").click()
    await expect(page).to_have_url(f"{live_server.url}/settings/models")
    await expect(whoami).to_have_text("alice")

    await admin.goto(f"/login?token={viewer_token}&next=/runs")
    await page.get_by_role("button", name="Sign in as mallory").click()
    await expect(page).to_have_url(f"{live_server.url}/runs")
    await expect(whoami).to_have_text("mallory")
    assert admin.errors == []

"""The live provider view in Chromium while a real worker holds a provider after a 429
with a long Retry-After: the hold appears without a reload, with its countdown ticking
and the 429 that caused it; queued probes and the last error are shown too."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect
from web_browser import SignedInPage, SignInPage, in_process_worker

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run

RETRY_AFTER = 120  # far longer than the test: the hold is seen, never waited out


@pytest.fixture
async def worker(database_url: str) -> AsyncIterator[None]:
    settings = Settings(
        database_url=database_url, limits_refresh_seconds=0.3, rate_limit_backoff=(0.5,)
    )
    async with in_process_worker(settings):
        yield


@pytest.fixture
async def viewer(sign_in_page: SignInPage, db: Database) -> SignedInPage:
    return await sign_in_page(db, "viewer", "victor")


async def test_a_held_provider_shows_its_hold_countdown_and_reason(
    db: Database, admin: Principal, sim: Simulator, viewer: SignedInPage, worker: None
) -> None:
    # One call at a time: the second probe starts only after the first's 429 and meets the hold.
    provider, model = await add_simulated_provider(db, admin, sim.url, "heldlab", parallel=1)
    sim.configure(
        model.model_id,
        provider=provider.name,
        outcomes=[Outcome.rate_limit(RETRY_AFTER, message="Slow down: quota for heldlab used")],
    )
    page = viewer.page
    await viewer.goto("/providers")
    card = page.locator("#provider-heldlab")
    await expect(card.locator('[data-figure="hold"]')).to_have_text("Not held")
    await expect(card.locator('[data-figure="in-flight"]')).to_have_text("0 / 1 parallel")
    await viewer.mark_document()

    await queue_probe_run(db, admin, [model], 2)

    hold = card.locator('[data-figure="hold"]')
    await expect(hold).to_contain_text("Held for", timeout=10_000)
    await expect(hold).to_contain_text("HTTP 429")
    await expect(hold).to_contain_text("Slow down: quota for heldlab used")
    await expect(card.get_by_text("Held", exact=True)).to_be_visible()  # the badge
    await expect(card.locator('[data-figure="queued"]')).to_have_text("2")
    await expect(card.locator('[data-figure="last-error"]')).to_contain_text("RATE_LIMITED")
    await expect(card.locator('[data-figure="starts"]')).to_have_text("1 / 10,000 req/min")

    countdown = card.locator("[data-countdown]")
    first = int(await countdown.inner_text())
    assert RETRY_AFTER - 10 < first <= RETRY_AFTER
    await page.wait_for_function(
        "(first) => Number(document.querySelector('#provider-heldlab [data-countdown]')"
        ".textContent) < first",
        arg=first,
        timeout=5_000,
    )
    assert await viewer.still_same_document()  # refreshed by htmx, not reloaded
    assert sim.stats()["models"][model.model_id]["requests"] == 1  # the hold holds

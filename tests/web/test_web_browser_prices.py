"""Settings > Prices and Add model from the reference, in Chromium (the bundled reference data)."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import BrowserContext, expect
from web_browser import SignedInPage, sign_in
from web_catalog_reads import model_row, price_versions

from modeldesk.catalog.price_proposals import review_prices
from modeldesk.catalog.price_sets import quote_of
from modeldesk.catalog.reference_prices import load_reference, reference_models_of
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.testing.live_server import LiveServer

BUNDLED = Settings(prices_file=None)


async def test_review_and_apply_selected_proposals(
    admin_page: SignedInPage,
    browser_context: BrowserContext,
    live_server: LiveServer,
    seeded_db: Database,
) -> None:
    review = await review_prices(seeded_db, BUNDLED)
    page = admin_page.page
    await page.get_by_role("link", name="Prices").click()
    await expect(page).to_have_url(f"{live_server.url}/settings/prices")
    await expect(page.get_by_role("heading", name="Prices", exact=True)).to_be_visible()
    rows = page.locator("#price-proposals tbody tr")
    await expect(rows).to_have_count(len(review.proposals))
    sonnet = page.locator("tr", has=page.get_by_text("anthropic/claude-sonnet-4-5", exact=True))
    tier_cell = sonnet.locator('td.price-diff[data-part="longContextTier"]')
    await expect(tier_cell.locator("ins")).to_contain_text("over 200,000 prompt tokens")
    background = await tier_cell.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")  # the difference stands out

    await admin_page.mark_document()
    for identifier in ("anthropic/claude-sonnet-4-5", "openai/gpt-5-mini"):
        await page.get_by_role("checkbox", name=identifier, exact=True).check()
    await page.get_by_role("button", name="Apply selected").click()
    await expect(page.get_by_role("status")).to_contain_text("Applied the reference prices")
    await expect(rows).to_have_count(len(review.proposals) - 2)
    assert await admin_page.still_same_document()
    model = await model_row(seeded_db, "claude-sonnet-4-5")
    assert model.long_context_threshold is not None
    assert len(await price_versions(seeded_db, model.id)) == 2

    viewer = await sign_in(browser_context, live_server, seeded_db, "viewer", "victor")
    await viewer.goto("/settings/prices")
    await expect(viewer.page.locator("#price-proposals tbody tr")).to_have_count(
        len(review.proposals) - 2
    )
    await expect(viewer.page.get_by_role("checkbox")).to_have_count(0)
    await expect(viewer.page.get_by_role("button", name="Apply selected")).to_have_count(0)
    await expect(viewer.page.get_by_text("read-only")).to_be_visible()
    assert viewer.errors == []


async def test_add_a_model_from_the_reference_and_edit_before_saving(
    admin_page: SignedInPage, seeded_db: Database
) -> None:
    data = await load_reference(BUNDLED)
    catalogued = {"claude-haiku-4-5", "claude-sonnet-4-5"}
    candidates = [
        model
        for model in reference_models_of(data, "anthropic", datetime.now(UTC))
        if model.prices is not None and model.model_id not in catalogued
    ]
    # One with a long-context tier when the data has one, so every price input is filled.
    chosen = next((m for m in candidates if m.prices and m.prices.long_context_tier), candidates[0])
    assert chosen.prices is not None

    page = admin_page.page
    await admin_page.mark_document()
    await page.get_by_role("button", name="Add model").click()
    dialog = page.locator("#add-model-dialog")
    await dialog.get_by_label("Provider", exact=True).select_option(label="Anthropic (anthropic)")
    options = dialog.locator("#reference-models option")
    await expect(options).to_have_count(len(candidates) + len(catalogued))
    search = dialog.get_by_label("From the reference prices")
    await search.fill(chosen.model_id)
    await search.press("Tab")  # the change event asks the server to fill the form

    await expect(dialog.get_by_label("Model id")).to_have_value(chosen.model_id)
    await expect(dialog.get_by_label("Display name")).to_have_value(chosen.name)
    assert chosen.prices.input_per_million is not None
    expected_input = f"{chosen.prices.input_per_million.normalize():f}"
    await expect(dialog.get_by_label("Input price (USD per 1M tokens)")).to_have_value(
        expected_input
    )
    tier = chosen.prices.long_context_tier
    threshold = dialog.get_by_label("Prompt tokens above")
    await expect(threshold).to_have_value("" if tier is None else str(tier.threshold_tokens))
    await expect(page.get_by_role("status")).to_contain_text("Filled from the reference")

    await dialog.get_by_label("Display name").fill("Claude (from the reference)")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    model = await model_row(seeded_db, chosen.model_id)
    assert model.display_name == "Claude (from the reference)"
    assert quote_of(model) == chosen.prices
    await expect(page.locator(f"#model-{model.id}")).to_contain_text(chosen.model_id)
    assert await admin_page.still_same_document()

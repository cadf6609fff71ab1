"""Settings > Models and Infrastructure in Chromium: each action checked on screen and in the DB."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.async_api import BrowserContext, expect
from web_browser import SignedInPage, sign_in
from web_catalog_reads import model_row, price_versions, provider_row

from modeldesk.catalog import get_setting
from modeldesk.db.session import Database
from modeldesk.testing.live_server import LiveServer

WRITE_LABELS = ("Add model", "Edit", "Deprecate", "Reactivate", "Set as default", "Save")


@pytest.fixture
async def admin(admin_page: SignedInPage) -> SignedInPage:
    """Marked at once, so a test can prove its actions reloaded nothing."""
    await admin_page.mark_document()
    return admin_page


async def test_add_model_in_a_keyboard_usable_dialog(
    admin: SignedInPage, seeded_db: Database
) -> None:
    page = admin.page
    dialog = page.locator("#add-model-dialog")
    add = page.get_by_role("button", name="Add model")
    await add.click()
    await expect(dialog).to_be_visible()
    await expect(page.locator("#add-provider")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(add).to_be_focused()

    await add.press("Enter")
    await dialog.get_by_label("Provider", exact=True).select_option(label="Anthropic (anthropic)")
    await dialog.get_by_label("Model id").fill("claude-opus-4-5")
    await dialog.get_by_label("Display name").fill("Claude Opus 4.5")
    await dialog.get_by_label("Input price (USD per 1M tokens)").fill("five")
    await dialog.get_by_role("button", name="Save").click()
    price = dialog.get_by_label("Input price (USD per 1M tokens)")
    await expect(price).to_have_attribute("aria-invalid", "true")
    await expect(dialog.locator("#add-input-price-error")).to_contain_text("must be a number")
    await expect(price).to_be_focused()

    await price.fill("5")
    await dialog.get_by_label("Output price (USD per 1M tokens)").fill("25")
    await dialog.get_by_label("Set as default for this provider").check()
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    model = await model_row(seeded_db, "claude-opus-4-5")
    row = page.locator(f"#model-{model.id}")
    await expect(row).to_contain_text("Claude Opus 4.5")
    await expect(row).to_contain_text("$25.00")
    await expect(row.get_by_text("Default", exact=True)).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("Added Claude Opus 4.5")
    assert (model.cost_input_per_million, model.is_default) == (Decimal(5), True)
    assert not (await model_row(seeded_db, "claude-haiku-4-5")).is_default
    assert await admin.still_same_document()


async def test_edit_prices_and_see_the_history(admin: SignedInPage, seeded_db: Database) -> None:
    page = admin.page
    model = await model_row(seeded_db, "gpt-5.1")
    row = page.locator(f"#model-{model.id}")
    await row.get_by_role("button", name="Edit").click()
    dialog = page.locator("#model-dialog")
    await expect(dialog.get_by_label("Model id")).to_have_value("gpt-5.1")
    await expect(dialog.get_by_label("Model id")).to_have_attribute("readonly", "")
    await expect(dialog.get_by_label("Display name")).to_be_focused()
    await expect(dialog.get_by_role("heading", name="Price history")).to_be_visible()
    await dialog.get_by_label("Input price (USD per 1M tokens)").fill("1.5")
    await dialog.get_by_label("Cached input price").fill("0.15")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    await expect(row).to_contain_text("$1.50")
    await expect(row).to_contain_text("cached $0.15")
    edited = await model_row(seeded_db, "gpt-5.1")
    assert (edited.cost_input_per_million, edited.cost_cached_input_per_million) == (
        Decimal("1.5"),
        Decimal("0.15"),
    )
    assert len(await price_versions(seeded_db, model.id)) == 2

    await row.get_by_role("button", name="Edit").click()
    await expect(dialog.locator("tbody tr")).to_have_count(2)
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    assert await admin.still_same_document()


async def test_deprecate_with_confirmation_then_reactivate_and_set_default(
    admin: SignedInPage, seeded_db: Database
) -> None:
    page = admin.page
    mini = await model_row(seeded_db, "gpt-5-mini")
    other = await model_row(seeded_db, "gpt-5.1")
    mini_row, other_row = page.locator(f"#model-{mini.id}"), page.locator(f"#model-{other.id}")
    dialog = page.locator("#model-dialog")

    await mini_row.get_by_role("button", name="Deprecate").click()
    await expect(dialog).to_contain_text("The default will move to GPT-5.1 (gpt-5.1).")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await dialog.get_by_role("button", name="Cancel").click()
    assert (await model_row(seeded_db, "gpt-5-mini")).status == "ACTIVE"

    await mini_row.get_by_role("button", name="Deprecate").click()
    await dialog.get_by_role("button", name="Deprecate").click()
    await expect(dialog).to_be_hidden()
    await expect(mini_row.get_by_text("Deprecated", exact=True)).to_be_visible()
    await expect(other_row.get_by_text("Default", exact=True)).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text(
        "The default for OpenAI moved to GPT-5.1 (gpt-5.1)."
    )
    assert (await model_row(seeded_db, "gpt-5-mini")).status == "DEPRECATED"
    assert (await model_row(seeded_db, "gpt-5.1")).is_default

    await mini_row.get_by_role("button", name="Reactivate").click()
    await expect(mini_row.get_by_text("Active", exact=True)).to_be_visible()
    assert (await model_row(seeded_db, "gpt-5-mini")).status == "ACTIVE"

    await mini_row.get_by_role("button", name="Set as default").click()
    await expect(mini_row.get_by_text("Default", exact=True)).to_be_visible()
    await expect(other_row.get_by_text("Default", exact=True)).to_have_count(0)
    await expect(page.get_by_role("status")).to_contain_text("(previously GPT-5.1)")
    assert (await model_row(seeded_db, "gpt-5-mini")).is_default
    assert await admin.still_same_document()


async def test_deprecating_a_providers_last_model_warns_it_has_no_default(
    admin: SignedInPage, seeded_db: Database
) -> None:
    page = admin.page
    gemini = await model_row(seeded_db, "gemini-2.5-pro")
    await page.locator(f"#model-{gemini.id}").get_by_role("button", name="Deprecate").click()
    dialog = page.locator("#model-dialog")
    await expect(dialog).to_contain_text("Google will have no default model")
    await dialog.get_by_role("button", name="Deprecate").click()
    card = page.locator(f"#provider-{gemini.provider_id}")
    await expect(card).to_contain_text("Google has no default model and no active model.")
    await expect(page.get_by_role("status")).to_contain_text("Google now has no default model")


async def test_change_provider_limits_on_its_card(admin: SignedInPage, seeded_db: Database) -> None:
    page = admin.page
    provider = await provider_row(seeded_db, "anthropic")
    card = page.locator(f"#provider-{provider.id}")
    await card.get_by_label("Max parallel").fill("7")
    await card.get_by_label("Req/min").fill("90")
    await card.get_by_label("Enabled").uncheck()
    await card.get_by_label("Default input $/1M").fill("3")
    await card.get_by_label("Default output $/1M").fill("15")
    await card.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text(
        "Saved Anthropic: max parallel 7, 90 req/min, disabled"
    )
    await expect(page.get_by_role("status")).to_contain_text(
        "Its models without a price are charged $3.00 input and $15.00 output per 1M tokens."
    )
    await expect(card.get_by_text("Disabled", exact=True)).to_be_visible()
    await expect(card.get_by_label("Default output $/1M")).to_have_value("15")
    saved = await provider_row(seeded_db, "anthropic")
    assert (saved.max_parallel_requests, saved.requests_per_minute, saved.is_enabled) == (
        7,
        90,
        False,
    )
    assert (saved.default_input_price, saved.default_output_price) == (Decimal(3), Decimal(15))
    assert await admin.still_same_document()


async def test_set_the_infrastructure_model(
    admin: SignedInPage, seeded_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    page = admin.page
    await admin.goto("/settings/infrastructure")
    card = page.locator("#purpose-summarization")
    await expect(card).to_contain_text("Standing in because no model is configured.")
    await card.get_by_label("Model for summarization").select_option("openai/gpt-5.1")
    await card.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_contain_text(
        "Summarization now uses openai/gpt-5.1."
    )
    await expect(card).to_contain_text("GPT-5.1")
    await expect(card.get_by_text("Configured", exact=True)).to_be_visible()
    setting = await get_setting(seeded_db, "infra_model_summarization")
    assert setting.value == {"providerName": "openai", "modelId": "gpt-5.1"}


async def test_a_viewer_sees_no_write_controls(
    browser_context: BrowserContext, live_server: LiveServer, seeded_db: Database
) -> None:
    viewer = await sign_in(browser_context, live_server, seeded_db, "viewer", "victor")
    page = viewer.page
    await expect(page.get_by_text("victor", exact=True)).to_be_visible()
    await expect(page.locator(".models-table")).to_have_count(6)
    for label in WRITE_LABELS:
        await expect(page.get_by_role("button", name=label, exact=True)).to_have_count(0)
    await viewer.goto("/settings/infrastructure")
    await expect(page.get_by_role("combobox")).to_have_count(0)
    await viewer.goto("/runs/new")
    await expect(page.get_by_role("button", name="Start run")).to_have_count(0)
    assert viewer.errors == []

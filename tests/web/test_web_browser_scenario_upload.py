"""Uploading scenarios in Chromium: a file picked, the replacement confirmed, the outcome
shown beside the field and in the definition picker, without a page load."""

from __future__ import annotations

import pytest
from playwright.async_api import FilePayload, expect
from web_browser import SignedInPage

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.request_limits import ADMIN_BODY_LIMIT
from modeldesk.runs import create_definition

# Chromium logs the oversized upload's 413, which the page shows beside the field.
pytestmark = pytest.mark.console_errors_shown("status of 413")


async def test_a_picked_file_replaces_the_scenarios_once_confirmed(
    admin_page: SignedInPage, seeded_db: Database
) -> None:
    await create_definition(
        seeded_db, Principal.system("alice"), name="Greetings", template="Hi.", scenarios=["A", "B"]
    )
    page = admin_page.page
    await admin_page.goto("/runs/new")
    await admin_page.mark_document()
    csv_file: FilePayload = {
        "name": "cases.csv",
        "mimeType": "text/csv",
        "buffer": b"scenario\nOne\nTwo\nThree\n",
    }
    await page.locator("#scenario-file").set_input_files(csv_file)

    await page.get_by_role("button", name="Upload scenarios…").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("will replace the 2 scenarios “Greetings” has now")
    await dialog.get_by_role("button", name="Replace 2 scenarios").click()

    await expect(page.locator("#scenario-upload-result")).to_have_text(
        "3 scenarios stored; the definition had 2."
    )
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#run-definition option")).to_have_text("Greetings — 3 scenarios")
    assert await admin_page.still_same_document()

    big: FilePayload = {
        "name": "big.csv",
        "mimeType": "text/csv",
        "buffer": b"x" * (ADMIN_BODY_LIMIT + 1),
    }
    await page.locator("#scenario-file").set_input_files(big)
    await page.get_by_role("button", name="Upload scenarios…").click()
    await dialog.get_by_role("button", name="Replace 3 scenarios").click()
    await expect(page.locator("#scenario-upload-result")).to_have_text(
        "The request body is over 16 MiB (16,777,216 bytes)."
    )
    await expect(page.locator("#run-definition option")).to_have_text("Greetings — 3 scenarios")

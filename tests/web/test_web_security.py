"""Issue 15 in the UI: numbers in paths and queries, bounded forms, echoes, the role
before validation, no-store pages and token audit entries for admins only."""

from __future__ import annotations

import logging

import httpx
import pytest
from web_ui_client import UiClient

from modeldesk.db.session import Database
from modeldesk.request_limits import ANONYMOUS_BODY_LIMIT
from modeldesk.testing.request_bodies import CountedBody

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/runs?page={HUGE}", 400),
        ("/runs?page=0", 400),
        (f"/runs/rows?page={HUGE}", 400),
        (f"/audit?page={HUGE}", 400),
        (f"/runs/{HUGE}", 404),
        (f"/runs/{HUGE}/live", 404),
        (f"/runs/{HUGE}/transcripts.csv", 404),
        (f"/settings/models/{HUGE}/edit", 404),
        (f"/settings/models/{HUGE}/deprecate", 404),
    ],
)
async def test_out_of_range_numbers_are_404_or_400_never_500(
    admin_ui: UiClient, path: str, status: int
) -> None:
    response = await admin_ui.get(path)
    assert response.status_code == status
    assert "Code <code>" in response.text  # the UI's own error page


async def test_out_of_range_numbers_in_posts_are_404(admin_ui: UiClient) -> None:
    for path in (f"/settings/models/{HUGE}/deprecate", f"/settings/providers/{HUGE}"):
        assert (await admin_ui.act(path, {"maxParallelRequests": "1"})).status_code == 404


async def test_an_anonymous_sign_in_form_is_bounded_while_read(
    anonymous: httpx.AsyncClient,
) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = CountedBody(b"token=" + b"x" * 64 * 1024, 90 * 1024 * 1024)
    response = await anonymous.post("/login", content=body, headers=headers)
    assert response.status_code == 413
    assert body.sent <= 2 * (64 * 1024 + 6)  # refused at the chunk that passed 64 KB
    fields = "&".join(f"f{index}=1" for index in range(3000))  # under 64 KB, too many fields
    assert len(fields) < ANONYMOUS_BODY_LIMIT
    many = await anonymous.post("/login", content=fields, headers=headers)
    assert many.status_code == 400
    assert "Too many fields" in many.text


async def test_a_huge_refused_price_is_echoed_in_part_only(
    admin_ui: UiClient, caplog: pytest.LogCaptureFixture
) -> None:
    huge = "1" * 1_000_000 + "x"
    with caplog.at_level(logging.INFO):
        response = await admin_ui.act(
            "/settings/models/1", {"displayName": "GPT-5 mini", "costInputPerMillion": huge}
        )
    assert response.status_code == 422
    assert "costInputPerMillion must be a number" in response.text
    assert len(response.text) < 50_000
    assert max(len(record.getMessage()) for record in caplog.records) < 2_000


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/settings/models/1", {"displayName": "\x00", "costInputPerMillion": "-1"}),
        ("/settings/models", {"providerId": "x", "costInputPerMillion": "free"}),
        ("/settings/providers/1", {"maxParallelRequests": "-5", "baseUrl": "ftp://x"}),
        ("/runs", {"definitionId": "abc"}),
    ],
)
async def test_a_viewer_is_forbidden_before_the_input_is_validated(
    viewer_ui: UiClient, path: str, form: dict[str, str]
) -> None:
    response = await viewer_ui.act(path, form)
    assert response.status_code == 403


async def test_pages_are_not_stored_by_caches(
    admin_ui: UiClient, anonymous: httpx.AsyncClient
) -> None:
    for response in (
        await admin_ui.get("/settings/models"),
        await admin_ui.fragment("/runs/rows"),
        await anonymous.get("/login"),
    ):
        assert response.headers["cache-control"] == "no-store"
    assert "no-store" not in (await anonymous.get("/static/app.css")).headers.get(
        "cache-control", ""
    )


async def test_token_audit_entries_are_shown_to_admins_only(
    admin_ui: UiClient, viewer_ui: UiClient, seeded_db: Database
) -> None:
    """Signing the two clients in created two tokens, and so two audit entries."""
    assert "token.create" in (await admin_ui.get("/audit")).text
    assert "token.create" not in (await viewer_ui.get("/audit")).text


async def test_a_base_url_change_is_checked_audited_and_shown_on_the_card(
    admin_ui: UiClient, viewer_ui: UiClient
) -> None:
    form = {"maxParallelRequests": "5", "requestsPerMinute": "60", "isEnabled": "on"}
    elsewhere = await admin_ui.act(
        "/settings/providers/1", {**form, "baseUrl": "https://attacker.example/v1"}
    )
    assert elsewhere.status_code == 422
    assert "add attacker.example to MODELDESK_ALLOWED_PROVIDER_HOSTS" in elsewhere.text
    local = await admin_ui.act(
        "/settings/providers/1", {**form, "baseUrl": "http://127.0.0.1:8080/v1"}
    )
    assert local.status_code == 200
    for client in (admin_ui, viewer_ui):
        card = (await client.get("/settings/models")).text
        assert "Base URL changed" in card and "by admin in tests" in card
        assert "<code>provider default</code> → <code>http://127.0.0.1:8080/v1</code>" in card

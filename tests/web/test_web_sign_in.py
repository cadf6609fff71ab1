"""Sign-in, the session cookie, sign-out and the CSRF check, over ASGI."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from web_ui_client import UiClient

from modeldesk.auth import authenticate_token, create_token, revoke_token
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.web.session import SESSION_COOKIE


async def test_pages_redirect_to_sign_in_without_a_session(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/settings/infrastructure")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings/infrastructure"


async def test_htmx_requests_without_a_session_are_sent_to_sign_in(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.post("/settings/models/1/default", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


async def test_root_goes_to_the_models_page(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/")
    assert response.headers["location"] == "/settings/models"


async def test_sign_in_url_sets_an_http_only_lax_cookie(
    anonymous: httpx.AsyncClient, seeded_db: Database
) -> None:
    _, token = await create_token(seeded_db, role="admin", name="alice")
    response = await anonymous.get("/login", params={"token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/models"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    page = await anonymous.get("/settings/models")
    assert page.status_code == 200
    assert "alice" in page.text


async def test_the_token_form_signs_in_and_keeps_a_local_next_page(
    anonymous: httpx.AsyncClient, seeded_db: Database
) -> None:
    form = await anonymous.get("/login")
    assert 'name="token"' in form.text
    _, token = await create_token(seeded_db, role="viewer", name="victor")
    response = await anonymous.post("/login", data={"token": token, "next": "/audit"})
    assert response.headers["location"] == "/audit"
    elsewhere = await anonymous.post("/login", data={"token": token, "next": "//evil.example"})
    assert elsewhere.headers["location"] == "/settings/models"


async def test_a_wrong_or_missing_token_is_refused_with_a_message(
    anonymous: httpx.AsyncClient,
) -> None:
    wrong = await anonymous.get("/login", params={"token": "mdk_not-a-token"})
    assert wrong.status_code == 401
    assert "unknown or has been revoked" in wrong.text
    assert "set-cookie" not in wrong.headers
    empty = await anonymous.post("/login", data={"token": "  "})
    assert empty.status_code == 401
    assert "Enter your access token." in empty.text


async def test_revoking_the_token_ends_the_session(
    admin_ui: UiClient, viewer_ui: UiClient, seeded_db: Database
) -> None:
    assert (await viewer_ui.get("/settings/models")).status_code == 200
    principal = await authenticate_token(seeded_db, viewer_ui.token)
    assert principal.token_id is not None
    await revoke_token(seeded_db, principal.token_id)
    response = await viewer_ui.get("/settings/models")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert (await admin_ui.get("/settings/models")).status_code == 200


async def test_sign_out_needs_the_csrf_token_and_clears_the_cookie(admin_ui: UiClient) -> None:
    refused = await admin_ui.http.post("/logout")
    assert refused.status_code == 403
    response = await admin_ui.http.post("/logout", data={"csrf_token": admin_ui.csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?signed_out=1"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert (await admin_ui.get("/settings/models")).status_code == 303
    assert "You are signed out." in (await admin_ui.get("/login?signed_out=1")).text


async def test_actions_without_the_right_csrf_token_are_refused(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    form = {"maxParallelRequests": "9", "requestsPerMinute": "9", "isEnabled": "on"}
    missing = await admin_ui.http.post(
        "/settings/providers/1", data=form, headers={"HX-Request": "true"}
    )
    assert missing.status_code == 403
    assert "security token" in missing.text
    assert missing.headers["HX-Retarget"] == "#status"
    wrong = await admin_ui.act("/settings/providers/1", form, csrf="0" * 64)
    assert wrong.status_code == 403
    async with seeded_db.session() as session:
        limit = await session.scalar(
            select(LlmProvider.max_parallel_requests).where(LlmProvider.id == 1)
        )
    assert limit == 5


async def test_the_csrf_token_may_come_as_a_form_field(admin_ui: UiClient) -> None:
    form = {"maxParallelRequests": "4", "requestsPerMinute": "50", "csrf_token": admin_ui.csrf}
    response = await admin_ui.http.post("/settings/providers/1", data=form)
    assert response.status_code == 200


async def test_static_assets_are_served_with_htmx_2(anonymous: httpx.AsyncClient) -> None:
    htmx = await anonymous.get("/static/htmx.min.js")
    assert htmx.status_code == 200
    assert 'version:"2.0.' in htmx.text
    assert (await anonymous.get("/static/app.css")).status_code == 200

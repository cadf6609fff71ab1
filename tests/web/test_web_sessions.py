"""Server-side sessions, one-time sign-in codes and the confirmation that stops login CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from web_ui_client import UiClient, asgi_client

from modeldesk.auth import authenticate_token, create_token, hash_token
from modeldesk.auth.sessions import create_sign_in_code
from modeldesk.db.auth_tables import SignInCode, UiSession
from modeldesk.db.session import Database
from modeldesk.web.session import SESSION_COOKIE


async def _whoami(client: httpx.AsyncClient) -> str | None:
    """The signed-in user's name as the page header shows it; None when sent to sign in."""
    page = await client.get("/settings/models")
    if page.status_code != 200:
        return None
    return page.text.split('<span class="whoami-name">', 1)[1].split("<", 1)[0]


async def test_the_cookie_holds_a_session_id_stored_only_as_its_hash(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    cookie = admin_ui.http.cookies[SESSION_COOKIE]
    assert cookie.startswith("mds_") and admin_ui.token not in cookie
    async with seeded_db.session() as session:
        hashes = list(await session.scalars(select(UiSession.secret_hash)))
    assert hash_token(cookie) in hashes and cookie not in hashes


async def test_sign_out_revokes_the_session_on_the_server(app: FastAPI, admin_ui: UiClient) -> None:
    cookie = admin_ui.http.cookies[SESSION_COOKIE]
    signed_out = await admin_ui.http.post("/logout", data={"csrf_token": admin_ui.csrf})
    assert signed_out.status_code == 303
    async with asgi_client(app) as replay:  # a copy of the cookie, taken before sign-out
        replay.cookies.set(SESSION_COOKIE, cookie)
        assert await _whoami(replay) is None


async def test_a_session_ends_after_seven_idle_days(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    assert await _whoami(admin_ui.http) == "admin in tests"
    async with seeded_db.transaction() as session:
        await session.execute(
            update(UiSession).values(last_seen_at=datetime.now(UTC) - timedelta(days=6))
        )
    assert await _whoami(admin_ui.http) == "admin in tests"  # and seen again, just now
    async with seeded_db.transaction() as session:
        await session.execute(
            update(UiSession).values(last_seen_at=datetime.now(UTC) - timedelta(days=7, minutes=1))
        )
    assert await _whoami(admin_ui.http) is None


async def test_a_sign_in_code_works_once_and_for_15_minutes(
    app: FastAPI, seeded_db: Database
) -> None:
    row, _ = await create_token(seeded_db, role="admin", name="first admin")
    code = await create_sign_in_code(seeded_db, row.id)
    async with asgi_client(app) as browser, asgi_client(app) as other:
        signed_in = await browser.get("/login", params={"code": code})
        assert signed_in.status_code == 303
        assert await _whoami(browser) == "first admin"
        again = await other.get("/login", params={"code": code})
        assert again.status_code == 401 and "unknown, used or expired" in again.text

        late = await create_sign_in_code(seeded_db, row.id)
        async with seeded_db.transaction() as session:
            await session.execute(
                update(SignInCode)
                .where(SignInCode.code_hash == hash_token(late))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert (await other.get("/login", params={"code": late})).status_code == 401


async def test_a_link_to_sign_in_as_someone_else_asks_first(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    _, attacker = await create_token(seeded_db, role="viewer", name="attacker")
    page = await admin_ui.get("/login", params={"token": attacker, "next": "/audit"})
    assert page.status_code == 200
    assert "Sign in as attacker?" in page.text and "admin in tests" in page.text
    assert await _whoami(admin_ui.http) == "admin in tests"  # nothing switched

    # The confirmation's form, without the session's CSRF token (a forged one): asks again.
    forged = await admin_ui.http.post("/login", data={"token": attacker, "next": "/audit"})
    assert forged.status_code == 200 and "Sign in as attacker?" in forged.text
    assert await _whoami(admin_ui.http) == "admin in tests"

    confirmed = await admin_ui.http.post(
        "/login", data={"token": attacker, "next": "/audit", "csrf_token": admin_ui.csrf}
    )
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/audit")
    assert await _whoami(admin_ui.http) == "attacker"


async def test_the_same_user_is_not_asked_and_scripts_still_sign_in_with_a_token(
    admin_ui: UiClient, anonymous: httpx.AsyncClient, seeded_db: Database
) -> None:
    again = await admin_ui.get("/login", params={"token": admin_ui.token})
    assert again.status_code == 303
    principal = await authenticate_token(seeded_db, admin_ui.token)
    assert principal.name == "admin in tests"
    script = await anonymous.get("/login", params={"token": admin_ui.token})
    assert script.status_code == 303 and SESSION_COOKIE in script.headers["set-cookie"]


async def test_sign_in_from_another_site_is_refused_or_confirmed(
    anonymous: httpx.AsyncClient, seeded_db: Database
) -> None:
    _, token = await create_token(seeded_db, role="viewer", name="victor")
    posted = await anonymous.post(
        "/login", data={"token": token}, headers={"Origin": "https://evil.example"}
    )
    assert posted.status_code == 403
    assert "set-cookie" not in posted.headers
    linked = await anonymous.get(
        "/login", params={"token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert linked.status_code == 200 and "Sign in as victor?" in linked.text
    assert "set-cookie" not in linked.headers

"""A UI page that cannot reach the database answers 503 with a readable message, not a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from web_ui_client import asgi_client

from modeldesk.app import create_app
from modeldesk.auth.sessions import SESSION_PREFIX
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database
from modeldesk.web.session import SESSION_COOKIE

DOWN_URL = "postgresql://nobody@127.0.0.1:1/modeldesk"


@pytest.fixture
async def signed_in_while_down(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with a session cookie, on an app whose database refuses connections."""
    down = Database(DOWN_URL)
    context = AppContext(
        settings=Settings(database_url=DOWN_URL, data_dir=tmp_path),
        db=down,
        owns_embedded_server=False,
    )
    app: FastAPI = create_app(context)
    try:
        async with asgi_client(app) as http:
            # Well formed, so it is looked up: in a database that cannot be reached.
            http.cookies.set(SESSION_COOKIE, SESSION_PREFIX + "a-session-secret")
            yield http
    finally:
        await down.dispose()


async def test_a_page_answers_503_with_a_readable_message(
    signed_in_while_down: httpx.AsyncClient,
) -> None:
    page = await signed_in_while_down.get("/settings/models")
    assert page.status_code == 503
    assert "Temporarily unavailable" in page.text
    assert "The database cannot be reached" in page.text
    assert "UNAVAILABLE" in page.text


async def test_an_htmx_request_gets_the_message_in_the_status_region(
    signed_in_while_down: httpx.AsyncClient,
) -> None:
    fragment = await signed_in_while_down.get("/runs", headers={"HX-Request": "true"})
    assert fragment.status_code == 503
    assert fragment.headers["HX-Retarget"] == "#status"
    assert "The database cannot be reached" in fragment.text

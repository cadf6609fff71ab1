"""An httpx client holding a UI session, sending what htmx sends, and what a run's status badge
reads (imported by the web tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from modeldesk.auth import create_token
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus
from modeldesk.web.session import CSRF_HEADER, SESSION_COOKIE, csrf_token_for


@dataclass
class UiClient:
    http: httpx.AsyncClient
    token: str

    @property
    def csrf(self) -> str:
        """The session's CSRF token, as its pages carry it (derived from the session id)."""
        return csrf_token_for(self.http.cookies[SESSION_COOKIE])

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def fragment(self, path: str) -> httpx.Response:
        return await self.http.get(path, headers={"HX-Request": "true"})

    async def act(
        self, path: str, data: dict[str, str] | None = None, *, csrf: str | None = None
    ) -> httpx.Response:
        """A POST as htmx makes it: form-encoded, with the CSRF header (or the one given)."""
        headers = {"HX-Request": "true", CSRF_HEADER: self.csrf if csrf is None else csrf}
        return await self.http.post(path, data=data or {}, headers=headers)


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def signed_in(app: FastAPI, db: Database, role: str) -> UiClient:
    _, token = await create_token(db, role=role, name=f"{role} in tests")
    http = asgi_client(app)
    response = await http.get("/login", params={"token": token})
    assert response.status_code == 303, response.text
    return UiClient(http, token)


def badge_text(status: RunStatus) -> str:
    """The words a run's status badge shows: BUDGET_EXCEEDED reads "Budget exceeded"."""
    return status.replace("_", " ").capitalize()

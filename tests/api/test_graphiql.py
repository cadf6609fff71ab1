"""GraphiQL needs no internet: the page names only this server's files, and they are served."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

import httpx
from fastapi import FastAPI

from modeldesk.api.graphiql import GRAPHIQL_ASSETS_PATH

HTML = {"Accept": "text/html"}


class AssetLinks(HTMLParser):
    """The (url, integrity) of every script and stylesheet a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("src") if tag == "script" else found.get("href")
        if tag in ("script", "link") and url and not url.startswith("data:"):
            self.assets.append((url, found.get("integrity")))


def page_assets(html: str) -> list[tuple[str, str | None]]:
    parser = AssetLinks()
    parser.feed(html)
    return parser.assets


def sri(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_every_script_and_style_is_served_here_and_matches_its_hash(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = page_assets(page.text)
    assert {url.rsplit("/", 1)[1] for url, _ in assets} >= {
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql.min.css",
    }
    for url, integrity in assets:
        assert url.startswith(GRAPHIQL_ASSETS_PATH + "/"), url
        served = await http.get(url)
        assert served.status_code == 200, url
        kind = "javascript" if url.endswith(".js") else "css"
        assert kind in served.headers["content-type"], url
        if integrity is not None:
            assert integrity == sri(served.content), url
    assert sum(integrity is not None for _, integrity in assets) >= 6  # every vendored file


async def test_urls_follow_the_path_the_app_is_served_under(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, root_path="/modeldesk")
    async with httpx.AsyncClient(transport=transport, base_url="http://md.test") as http:
        page = await http.get("/graphql", headers=HTML)
    assert all(url.startswith("/modeldesk/graphql/assets/") for url, _ in page_assets(page.text))
    assert 'data-endpoint="/modeldesk/graphql"' in page.text

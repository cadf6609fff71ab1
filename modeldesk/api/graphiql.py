"""GraphiQL at `GET /graphql`, with every script and style served by this app.

An operator's machine may have no internet access, so nothing may come from a
CDN: the vendored builds live in `static/graphiql/` (see its VENDORED.md) and
the page's Content-Security-Policy lets the browser load nothing from elsewhere.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

API_DIR = Path(__file__).parent
GRAPHIQL_ASSETS_DIR = API_DIR / "static" / "graphiql"
GRAPHIQL_ASSETS_PATH = "/graphql/assets"

_PAGE = Template((API_DIR / "templates" / "graphiql.html").read_text(encoding="utf-8"))
_HEADERS = {
    # React and CodeMirror set element styles, hence 'unsafe-inline' for styles only;
    # GraphiQL's fonts are data: URLs inside its stylesheet.
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def mount_graphiql_assets(app: FastAPI) -> None:
    app.mount(
        GRAPHIQL_ASSETS_PATH, StaticFiles(directory=GRAPHIQL_ASSETS_DIR), name="graphiql-assets"
    )


def graphiql_page(request: Request, graphql_path: str) -> HTMLResponse:
    """The page, with URLs that also hold when the app is served under a path prefix."""
    root = request.scope.get("root_path", "")
    html = _PAGE.substitute(
        assets=escape(root + GRAPHIQL_ASSETS_PATH), endpoint=escape(root + graphql_path)
    )
    return HTMLResponse(html, headers=_HEADERS)

"""Builds the FastAPI application: the GraphQL API, the web UI and `/healthz`."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from modeldesk.api import mount_api
from modeldesk.context import AppContext
from modeldesk.web import mount_web

logger = logging.getLogger(__name__)


def create_app(context: AppContext) -> FastAPI:
    """An app bound to an open context; the caller owns the context's lifetime."""
    app = FastAPI(title="modeldesk", docs_url=None, redoc_url=None)
    mount_api(app, context)
    mount_web(app, context)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            async with context.db.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach the database is "unhealthy"
            logger.warning("health check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "reachable"})

    return app

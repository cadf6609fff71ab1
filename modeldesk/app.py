"""Builds the FastAPI application: the GraphQL API, the web UI and `/healthz`."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from modeldesk.api import mount_api
from modeldesk.context import AppContext
from modeldesk.request_limits import BodyLimitMiddleware, NoStoreMiddleware
from modeldesk.web import mount_web
from modeldesk.web.dependencies import MAX_FORM_FIELD_BYTES, MAX_FORM_FIELDS

logger = logging.getLogger(__name__)

AUTOVACUUM_OFF_WARNING = (
    "autovacuum: off; the queue tables' dead rows are never reclaimed and draining slows "
    "down: turn autovacuum on in postgresql.conf"
)


def create_app(context: AppContext) -> FastAPI:
    """An app bound to an open context; the caller owns the context's lifetime."""
    app = FastAPI(
        title="modeldesk",
        docs_url=None,
        redoc_url=None,
        # The `Form()` parameters (the sign-in form); handlers read forms with `read_form`.
        form_limits={
            "max_files": 0,
            "max_fields": MAX_FORM_FIELDS,
            "max_part_size": MAX_FORM_FIELD_BYTES,
        },
    )
    mount_api(app, context)
    mount_web(app, context)
    # Added last is outermost: the 413 of the body limit is marked no-store too.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(NoStoreMiddleware)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            async with context.db.session() as session:
                autovacuum = await session.scalar(text("SELECT current_setting('autovacuum')"))
        except Exception as exc:  # any failure to reach the database is "unhealthy"
            logger.warning("health check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        body: dict[str, object] = {"status": "ok", "database": "reachable"}
        if autovacuum == "off":
            # Healthy now, but the queue's dead rows pile up and draining slows (SPEC 9.7).
            body["warnings"] = [AUTOVACUUM_OFF_WARNING]
        return JSONResponse(body)

    return app

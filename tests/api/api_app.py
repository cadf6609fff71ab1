"""Building and closing an app on a test database."""

from __future__ import annotations

from fastapi import FastAPI

from modeldesk.api.endpoint import GraphQLEndpoint
from modeldesk.app import create_app
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database


def make_app(db: Database, *, response_cache: bool = True) -> FastAPI:
    context = AppContext(settings=Settings(database_url=db.url), db=db, owns_embedded_server=False)
    app = create_app(context)
    if not response_cache:
        app.state.graphql.listener = None
    return app


async def close_app(app: FastAPI) -> None:
    endpoint: GraphQLEndpoint = app.state.graphql
    await endpoint.close()

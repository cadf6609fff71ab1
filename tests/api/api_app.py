"""Building and closing an app on a test database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from graphql_client import GraphQLClient

from modeldesk.api.cache import ResponseCache
from modeldesk.api.endpoint import GraphQLEndpoint
from modeldesk.app import create_app
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database


@dataclass
class Process:
    """One app with its own Database: what a separate modeldesk process holds."""

    endpoint: GraphQLEndpoint
    client: GraphQLClient

    @property
    def cache(self) -> ResponseCache:
        assert self.endpoint.cache is not None, "the app was made without its response cache"
        return self.endpoint.cache


def make_app(db: Database, *, response_cache: bool = True) -> FastAPI:
    context = AppContext(settings=Settings(database_url=db.url), db=db, owns_embedded_server=False)
    app = create_app(context)
    if not response_cache:
        app.state.graphql.cache = None
    return app


async def wait_for(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - the listener exposes a flag, not an event
            await asyncio.sleep(0.01)


async def listening(app: FastAPI) -> GraphQLEndpoint:
    """The app's endpoint, once its change listener hears changes (so its caches are used)."""
    endpoint: GraphQLEndpoint = app.state.graphql
    endpoint.listener.start()
    await wait_for(lambda: endpoint.listener.connected)
    return endpoint


async def close_app(app: FastAPI) -> None:
    endpoint: GraphQLEndpoint = app.state.graphql
    await endpoint.close()


@asynccontextmanager
async def app_on(db: Database) -> AsyncIterator[FastAPI]:
    """An app on `db`, closed when leaving."""
    app = make_app(db)
    try:
        yield app
    finally:
        await close_app(app)

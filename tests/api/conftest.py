"""An app on the test database, driven over HTTP, with one admin and one viewer token;
and `processes`, two apps on separate connection pools, as two modeldesk processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_app import Process, app_on, close_app, listening, make_app
from fastapi import FastAPI
from graphql_client import GraphQLClient

from modeldesk.auth import create_token
from modeldesk.db.session import Database


@pytest.fixture
async def app(db: Database) -> AsyncIterator[FastAPI]:
    async with app_on(db) as application:
        yield application


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://modeldesk.test") as client:
        yield client


@pytest.fixture
async def admin_token(db: Database) -> str:
    _, plain = await create_token(db, role="admin", name="test admin")
    return plain


@pytest.fixture
async def viewer_token(db: Database) -> str:
    _, plain = await create_token(db, role="viewer", name="test viewer")
    return plain


@pytest.fixture
def gql(http: httpx.AsyncClient, admin_token: str) -> GraphQLClient:
    return GraphQLClient(http, admin_token)


@pytest.fixture
def viewer_gql(http: httpx.AsyncClient, viewer_token: str) -> GraphQLClient:
    return GraphQLClient(http, viewer_token)


@pytest.fixture
async def processes(
    seeded_db: Database, database_url: str, admin_token: str
) -> AsyncIterator[list[Process]]:
    second_db = Database(database_url, pool_size=2)
    apps = [make_app(seeded_db), make_app(second_db)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://md.test")
        for app in apps
    ]
    started = [
        Process(await listening(app), GraphQLClient(client, admin_token))
        for app, client in zip(apps, clients, strict=True)
    ]
    yield started
    for client in clients:
        await client.aclose()
    for app in apps:
        await close_app(app)
    await second_db.dispose()

"""An app on the test database, driven over HTTP, with one admin and one viewer token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_app import close_app, make_app
from fastapi import FastAPI
from graphql_client import GraphQLClient

from modeldesk.auth import create_token
from modeldesk.db.session import Database


@pytest.fixture
async def app(db: Database) -> AsyncIterator[FastAPI]:
    application = make_app(db)
    try:
        yield application
    finally:
        await close_app(application)


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

"""The response and document caches stay within MODELDESK_CACHE_MB, whatever a viewer sends.

Release 1: 750 distinct 250 KB queries (one query padded with a different
comment each time) grew a server from 147 to 439 MB for good, its caches being
bounded by entries, not bytes. Here 150 distinct 200 KB queries go through the
app in-process, under a 2 MB budget, and the memory still held afterwards (tracemalloc, after a
collection) stays within the budget.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncIterator

import httpx
import pytest
from api_app import close_app, listening

from modeldesk.api.endpoint import GraphQLEndpoint
from modeldesk.api.schema import DOCUMENTS
from modeldesk.app import create_app
from modeldesk.auth import create_token
from modeldesk.config import Settings
from modeldesk.context import AppContext
from modeldesk.db.session import Database

# 150 queries of 200 KB are 15 times the budget: far more than it could hold unbounded.
CACHE_MB = 2
QUERY_BYTES = 200 * 1024
QUERIES = 150
MARGIN = 2 * 1024 * 1024


def _queries() -> list[str]:
    """Distinct 200 KB queries of three kinds: the same read padded with a comment, reads
    whose answers are cacheable but whose texts hold a long string, and invalid ones."""
    read = "{ llmProviders { id name models { modelId } } }"
    queries = []
    for index in range(QUERIES):
        tag = f"{index:06d}"
        padding = (tag * (QUERY_BYTES // len(tag)))[: QUERY_BYTES - 100]
        if index % 10 < 8:
            queries.append(f"{read} # {padding}")
        elif index % 10 == 8:
            queries.append(
                f'{{ llmModelByIdentifier(providerName: "{padding}", modelId: "x") {{ id }} }}'
            )
        else:
            queries.append(f"{{ f{padding} }}")
    return queries


@pytest.fixture
async def budgeted(seeded_db: Database) -> AsyncIterator[tuple[httpx.AsyncClient, GraphQLEndpoint]]:
    settings = Settings(database_url=seeded_db.url, cache_mb=CACHE_MB)
    app = create_app(AppContext(settings=settings, db=seeded_db, owns_embedded_server=False))
    endpoint = await listening(app)  # so the response cache is in use
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://md.test") as http:
        yield http, endpoint
    await close_app(app)
    DOCUMENTS.resize(32 * 1024 * 1024)  # the schema's default, for the next tests


async def test_distinct_200_kb_queries_stay_within_the_cache_budget(
    seeded_db: Database, budgeted: tuple[httpx.AsyncClient, GraphQLEndpoint]
) -> None:
    http, endpoint = budgeted
    _, token = await create_token(seeded_db, role="viewer", name="hostile viewer")
    headers = {"Authorization": f"Bearer {token}"}
    queries = _queries()
    await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)  # warm up
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        codes: set[str] = set()
        for query in queries:
            response = await http.post("/graphql", json={"query": query}, headers=headers)
            assert response.status_code == 200
            codes.update(e["extensions"]["code"] for e in response.json().get("errors", []))
        del response, queries
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    budget = CACHE_MB * 1024 * 1024
    assert codes == {"VALIDATION_ERROR"}  # the invalid kind only
    assert endpoint.cache is not None and 0 < endpoint.cache.current_bytes <= budget // 2
    assert 0 < DOCUMENTS.current_bytes <= budget // 2
    # What the caches hold, plus a margin for the estimates and the app's own bookkeeping
    # (and coverage's, under `make test`): unbounded, the caches would hold the 30 MB sent.
    assert held - before < budget + MARGIN, f"{(held - before) / 2**20:.1f} MB held"

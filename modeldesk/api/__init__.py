"""The GraphQL API at `/graphql` (GraphiQL in a browser), thin over the services.

How it fits together:
- `schema.py` joins the parts: `QUERY_PARTS` and `MUTATION_PARTS` are tuples of
  Strawberry types merged into `Query` and `Mutation`.
- `endpoint.py` authenticates every POST (`Authorization: Bearer <token>`),
  serves cached catalogue reads, and executes the rest with a `RequestContext`;
  a GET from a browser gets GraphiQL (`graphiql.py`, assets vendored in `static/`).
- `change_listener.py` hears catalogue and token changes from every process;
  `request_auth.py`, `token_cache.py` and `cache.py` rely on it to stay exact.
- `context.py`: `info.context.principal`, `info.context.db`, and
  `info.context.loader(batch_fn)`, the per-request DataLoader for a batch function.
- `permissions.py`: `ADMIN_ONLY`, the guard every mutation must carry.
- `errors.py`: every error leaves with `extensions.code`; raise a
  `modeldesk.errors.ModeldeskError` subclass and the code follows.
- `metrics.py`: `/metrics` in Prometheus text format, authenticated like
  `/graphql` (any role); fleet gauges come from `runs.fleet_status`.
- `scenario_upload.py`: `POST /definitions/<id>/scenarios`, a CSV or JSONL file
  of scenarios (admin token), beyond what a GraphQL variable should carry.

To add a part (for example definitions and runs):
1. Write `runs_queries.py` with `@strawberry.type class RunsQuery` and
   `runs_mutations.py` with `class RunsMutation`; resolvers convert inputs, call
   `modeldesk.runs`, and build types from rows. Nested fields go through
   `info.context.loader(...)` with a batch function like those in `loaders.py`.
2. Give every mutation `permission_classes=ADMIN_ONLY` (tests/api walk the
   schema's mutations and fail on one without it).
3. Append the two types to `QUERY_PARTS` and `MUTATION_PARTS` in `schema.py`.
4. Leave `CACHEABLE_ROOT_FIELDS` alone unless a new root field's answer changes
   only when the catalogue version does (run state does not).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from modeldesk.api.endpoint import GRAPHQL_PATH, GraphQLEndpoint
from modeldesk.api.graphiql import mount_graphiql_assets
from modeldesk.api.metrics import METRICS_PATH, MetricsEndpoint
from modeldesk.api.scenario_upload import SCENARIO_UPLOAD_PATH, ScenarioUploadEndpoint
from modeldesk.api.schema import schema
from modeldesk.context import AppContext


def mount_api(app: FastAPI, context: AppContext, *, response_cache: bool = True) -> GraphQLEndpoint:
    """Serve `/graphql` (and `/metrics`, same Bearer tokens) on `app`; the endpoint's
    connection closes with the app's lifespan.

    `response_cache=False` executes every operation (the benchmark's uncached figure).
    """
    endpoint = GraphQLEndpoint(context, schema, response_cache=response_cache)
    app.add_route(GRAPHQL_PATH, endpoint.handle, methods=["GET", "POST"], include_in_schema=False)
    metrics = MetricsEndpoint(context, endpoint.authenticator)
    app.add_route(METRICS_PATH, metrics.handle, methods=["GET"], include_in_schema=False)
    uploads = ScenarioUploadEndpoint(context, endpoint.authenticator)
    app.add_route(SCENARIO_UPLOAD_PATH, uploads.handle, methods=["POST"], include_in_schema=False)
    mount_graphiql_assets(app)
    app.state.graphql = endpoint

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner_lifespan(application) as state:
            endpoint.listener.start()  # so the first requests already find the caches usable
            try:
                yield state
            finally:
                await endpoint.close()

    app.router.lifespan_context = lifespan
    return endpoint


__all__ = ["GRAPHQL_PATH", "mount_api"]

"""`/metrics` on `serve`: Prometheus text format, for a Bearer token of any role.

Two kinds of figures, told apart on purpose:
- counters of what this process did (its provider calls, from the in-process
  worker), in prometheus-client's default registry, as on `modeldesk worker
  --metrics-port`: a scraper sums them over processes;
- gauges of what the whole fleet is doing, read from PostgreSQL at scrape time
  by `FleetCollector` (two statements), so they are true across workers and
  never summed: in flight, limits, holds, queued probes, cost, runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from modeldesk.api.request_auth import RequestAuthenticator
from modeldesk.context import AppContext
from modeldesk.errors import DatabaseUnavailableError, UnauthenticatedError
from modeldesk.runs import FleetTotals, ProviderActivity, fleet_totals, provider_activity

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


class FleetCollector(Collector):
    """The fleet-wide gauges, from one reading of the database taken for this scrape."""

    def __init__(self, activity: list[ProviderActivity], totals: FleetTotals) -> None:
        self._activity = activity
        self._totals = totals

    def collect(self) -> Iterable[Metric]:
        in_flight = GaugeMetricFamily(
            "modeldesk_provider_in_flight",
            "Probe calls running now against the provider, across all workers.",
            labels=["provider"],
        )
        limit = GaugeMetricFamily(
            "modeldesk_provider_limit",
            "The provider's limits as applied: parallel calls, and calls started per minute.",
            labels=["provider", "kind"],
        )
        held = GaugeMetricFamily(
            "modeldesk_provider_held_seconds",
            "Seconds until the provider's hold after a rate limit ends (0: not held).",
            labels=["provider"],
        )
        queued = GaugeMetricFamily(
            "modeldesk_probes_queued",
            "Probe jobs waiting for the provider, delayed retries included.",
            labels=["provider"],
        )
        for provider in self._activity:
            in_flight.add_metric([provider.name], provider.in_flight)
            limit.add_metric([provider.name, "parallel"], provider.parallel_limit)
            limit.add_metric([provider.name, "rpm"], provider.rpm_limit)
            held.add_metric([provider.name], provider.held_seconds)
            queued.add_metric([provider.name], provider.queued)
        cost = CounterMetricFamily(
            "modeldesk_cost_usd",
            "Recorded cost of every transcript, in USD, by provider and model.",
            labels=["provider", "model"],
        )
        for line in self._totals.costs:
            cost.add_metric([line.provider, line.model], float(line.cost))
        runs = GaugeMetricFamily("modeldesk_runs", "Runs by status.", labels=["status"])
        for status, count in sorted(self._totals.runs_by_status.items()):
            runs.add_metric([status], count)
        return [in_flight, limit, held, queued, cost, runs]


async def render_metrics(context: AppContext) -> bytes:
    """This process's counters, then the fleet's gauges as the database has them now."""
    fleet = CollectorRegistry(auto_describe=False)
    fleet.register(
        FleetCollector(await provider_activity(context.db), await fleet_totals(context.db))
    )
    return generate_latest(REGISTRY) + generate_latest(fleet)


class MetricsEndpoint:
    def __init__(self, context: AppContext, authenticator: RequestAuthenticator) -> None:
        self._context = context
        self._authenticator = authenticator

    async def handle(self, request: Request) -> Response:
        try:
            await self._authenticator.authenticate(request.headers.get("authorization"))
            body = await render_metrics(self._context)
        except DatabaseUnavailableError as exc:
            return PlainTextResponse(exc.message, status_code=503)
        except UnauthenticatedError as exc:
            logger.info("metrics scrape refused: %s", exc.message)
            return PlainTextResponse(
                exc.message, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return Response(body, media_type=CONTENT_TYPE_LATEST)

"""What the whole fleet is doing now, per provider, read from PostgreSQL.

Every worker keeps its share of the truth in the database (pgqueuer's picked
and queued jobs, the requests-per-minute lanes, holds, the last failed call),
so one read here is true across workers and machines. `/metrics` and the live
provider view (`/providers`) both read `provider_activity`, so they never
disagree; `fleet_totals` adds what only the metrics show (cost, runs).

Each function is one statement: a scrape must cost the database little, since
the API shares it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pgqueuer.adapters.persistence.qb import QueryQueueBuilder

from modeldesk.catalog import effective_max_parallel, effective_requests_per_minute
from modeldesk.db.job_queue import PROBE_ENTRYPOINT_PREFIX
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus
from modeldesk.runs.driver_connection import driver_connection

_QUEUE_TABLE = QueryQueueBuilder().qualified.queue_table

# A picked job is a call in flight: pgqueuer's concurrency limit (the provider's
# max parallel) counts exactly these, across every worker. Each lane of the
# requests-per-minute window holds its last start and admits no other within
# 60 s, so the lanes started in the last 60 s are the starts in that window.
_ACTIVITY = f"""
WITH queue AS (
    SELECT entrypoint,
           count(*) FILTER (WHERE status = 'picked') AS in_flight,
           count(*) FILTER (WHERE status = 'queued') AS queued
    FROM {_QUEUE_TABLE}
    WHERE status IN ('picked', 'queued') AND entrypoint LIKE '{PROBE_ENTRYPOINT_PREFIX}%'
    GROUP BY entrypoint
), starts AS (
    SELECT provider_id, count(*) AS starts
    FROM provider_request_starts
    WHERE started_at > clock_timestamp() - interval '60 seconds'
    GROUP BY provider_id
)
SELECT p.id, p.name, p.display_name, p.is_enabled,
       p.max_parallel_requests, p.requests_per_minute,
       coalesce(q.in_flight, 0) AS in_flight, coalesce(q.queued, 0) AS queued,
       coalesce(s.starts, 0) AS starts,
       h.held_until, h.reason AS hold_reason,
       greatest(0, extract(epoch FROM h.held_until - clock_timestamp()))::float8 AS held_seconds,
       e.failed_at, e.code AS error_code, e.message AS error_message
FROM llm_providers p
LEFT JOIN queue q ON q.entrypoint = '{PROBE_ENTRYPOINT_PREFIX}' || p.name
LEFT JOIN starts s ON s.provider_id = p.id
LEFT JOIN provider_holds h ON h.provider_id = p.id
LEFT JOIN provider_last_errors e ON e.provider_id = p.id
ORDER BY p.display_name, p.id
"""

# Cost per model from the transcripts' recorded costs (all time, from the running
# totals per run and model: one row per run, not per transcript), and runs per
# status: two groupings, one round trip. `name` is the provider, or the status.
_TOTALS = """
SELECT 'cost' AS kind, p.name AS name, m.model_id AS model, c.cost AS amount
FROM (SELECT model_id, sum(cost) AS cost FROM run_model_totals GROUP BY model_id) c
JOIN llm_models m ON m.id = c.model_id
JOIN llm_providers p ON p.id = m.provider_id
UNION ALL
SELECT 'runs', status, NULL, count(*)::numeric FROM runs GROUP BY status
"""


@dataclass(frozen=True)
class LastError:
    failed_at: datetime
    code: str
    message: str


@dataclass(frozen=True)
class ProviderActivity:
    """One provider, now: limits as configured, and the fleet's use of them."""

    provider_id: int
    name: str
    display_name: str
    is_enabled: bool
    max_parallel_requests: int
    requests_per_minute: int
    in_flight: int
    queued: int
    starts_last_minute: int
    held_seconds: float
    held_until: datetime | None
    hold_reason: str | None
    last_error: LastError | None

    @property
    def parallel_limit(self) -> int:
        """The limit the workers apply."""
        return effective_max_parallel(self.max_parallel_requests)

    @property
    def rpm_limit(self) -> int:
        """The window admission applies."""
        return effective_requests_per_minute(self.requests_per_minute)

    @property
    def is_held(self) -> bool:
        return self.held_seconds > 0


@dataclass(frozen=True)
class ModelCost:
    provider: str
    model: str
    cost: Decimal


@dataclass(frozen=True)
class FleetTotals:
    costs: list[ModelCost]
    # Every known status, 0 included, so a scraper sees a status drop to nothing.
    runs_by_status: dict[str, int]


async def provider_activity(db: Database) -> list[ProviderActivity]:
    async with driver_connection(db) as connection:
        rows = await connection.fetch(_ACTIVITY)
    return [
        ProviderActivity(
            provider_id=row["id"],
            name=row["name"],
            display_name=row["display_name"],
            is_enabled=row["is_enabled"],
            max_parallel_requests=row["max_parallel_requests"],
            requests_per_minute=row["requests_per_minute"],
            in_flight=row["in_flight"],
            queued=row["queued"],
            starts_last_minute=row["starts"],
            held_seconds=row["held_seconds"] or 0.0,
            held_until=row["held_until"],
            hold_reason=row["hold_reason"],
            last_error=None
            if row["failed_at"] is None
            else LastError(row["failed_at"], row["error_code"], row["error_message"]),
        )
        for row in rows
    ]


async def fleet_totals(db: Database) -> FleetTotals:
    async with driver_connection(db) as connection:
        rows = await connection.fetch(_TOTALS)
    runs_by_status = dict.fromkeys((status.value for status in RunStatus), 0)
    costs: list[ModelCost] = []
    for row in rows:
        if row["kind"] == "cost":
            costs.append(ModelCost(row["name"], row["model"], row["amount"]))
        else:
            runs_by_status[row["name"]] = int(row["amount"])
    return FleetTotals(costs=costs, runs_by_status=runs_by_status)

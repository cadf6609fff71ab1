"""The worker process: pgqueuer on a small asyncpg pool, one entrypoint per provider.

Run any number of workers on any machines against one database: the limits
they enforce (parallel calls, calls per minute, holds after a rate limit) live
in PostgreSQL, not in a process. On shutdown in-flight jobs finish; those
still running after `shutdown_grace_seconds` (or at a second signal) go back
to the queue for another worker. A worker killed outright loses nothing
either: its jobs stop sending heartbeats and are run again by another worker
after `job_heartbeat_seconds`.

A worker opens at most GATE_POOL_SIZE + PROBE_POOL_SIZE = 8 connections,
however many calls it has in flight: a probe holds a connection only for one
short statement at a time (claim, record), never across its provider call.
So on the embedded server (100 connections) a dozen workers and `serve` fit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.adapters.persistence.queries import Queries

from modeldesk.context import AppContext
from modeldesk.db.job_queue import EXPANSION_ENTRYPOINT
from modeldesk.db.session import Database
from modeldesk.queue.gate_pool import open_gate_pool
from modeldesk.queue.jobs import ExpansionJobHandler, InFlightSteps, JobServices, ProbeJobHandler
from modeldesk.queue.limits import ProviderEntrypoints, ProviderLimits
from modeldesk.queue.manager import ProviderQueueManager
from modeldesk.queue.signals import shutdown_on_signals
from modeldesk.runs.db_guard import is_database_unavailable

logger = logging.getLogger(__name__)

# Jobs one dequeue may take, and how many finished jobs pgqueuer buffers before
# logging them (probe jobs free their slots at once anyway: `FinishedJobs`).
BATCH_SIZE = 10
# pgqueuer (its listener, dequeues, logs, heartbeats) and the gates share it.
GATE_POOL_SIZE = 4
# The probe steps' own engine, apart from the API's in `modeldesk serve`: a
# busy API cannot starve the worker of connections, nor the worker the API.
PROBE_POOL_SIZE = 4
_RECONNECT_MAX_SECONDS = 30.0
EXPANSION_CONCURRENCY = 1


async def run_worker(context: AppContext, *, shutdown: asyncio.Event | None = None) -> None:
    """Run jobs until `shutdown` is set, or, when none is given, until SIGTERM/SIGINT."""
    stop = shutdown or asyncio.Event()
    release = asyncio.Event()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits) as client:
        signals = (
            shutdown_on_signals(stop, release.set) if shutdown is None else contextlib.nullcontext()
        )
        with signals:
            await _run_until_stopped(context, client, stop, release)
    logger.info("worker stopped")


async def _run_until_stopped(
    context: AppContext, client: httpx.AsyncClient, stop: asyncio.Event, release: asyncio.Event
) -> None:
    """Serve the queue; when PostgreSQL goes away, reconnect with backoff rather than die."""
    delay = 1.0
    while not stop.is_set():
        try:
            await _serve_queue(context, client, stop, release)
            return
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            logger.error(
                "worker lost the database (%s: %s); reconnecting in %.0f s",
                type(exc).__name__,
                exc,
                delay,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(_RECONNECT_MAX_SECONDS, delay * 2)


async def _serve_queue(
    context: AppContext, client: httpx.AsyncClient, stop: asyncio.Event, release: asyncio.Event
) -> None:
    settings = context.settings
    pool = await open_gate_pool(context.db.url, max_size=GATE_POOL_SIZE)
    db = Database(context.db.url, pool_size=PROBE_POOL_SIZE, max_overflow=0)
    try:
        queries = Queries(AsyncpgPoolDriver(pool))
        manager = ProviderQueueManager(queries)
        services = JobServices(
            db=db, gate_pool=pool, queries=queries, settings=settings, client=client
        )
        # One expansion call at a time across the fleet: its provider's
        # `max_parallel_requests` does not cover it (see ExpansionJobHandler).
        manager.add_entrypoint(
            EXPANSION_ENTRYPOINT,
            ExpansionJobHandler(services),
            concurrency_limit=EXPANSION_CONCURRENCY,
        )

        def handler_for(provider: ProviderLimits) -> ProbeJobHandler:
            return ProbeJobHandler(services, provider)

        providers = ProviderEntrypoints(manager, handler_for)
        await providers.refresh(db)
        queue = asyncio.create_task(
            manager.run(
                # New providers' jobs only notify workers that already know the
                # entrypoint, so poll at least as often as the limits refresh.
                dequeue_timeout=timedelta(seconds=settings.limits_refresh_seconds),
                batch_size=BATCH_SIZE,
                heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_seconds),
            ),
            name="pgqueuer",
        )
        refresher = asyncio.create_task(
            providers.keep_refreshed(db, settings.limits_refresh_seconds, stop),
            name="limits-refresh",
        )
        logger.info("worker %s started", manager.queue_manager_id)
        try:
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({queue, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
        finally:
            manager.shutdown.set()
            await _drain(queue, services.in_flight, settings.shutdown_grace_seconds, release)
            refresher.cancel()
            await asyncio.wait({refresher})
        queue.result()  # a queue that stopped by itself failed: raise why
    finally:
        await db.dispose()
        await pool.close()


async def _drain(
    queue: asyncio.Task[None], in_flight: InFlightSteps, grace: float, release: asyncio.Event
) -> None:
    """Let in-flight jobs finish for `grace` seconds, then give the rest back to the queue."""
    if not queue.done():
        logger.info("stopping: waiting up to %.0f s for %d in-flight jobs", grace, len(in_flight))
        released = asyncio.create_task(release.wait())
        await asyncio.wait({queue, released}, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        released.cancel()
    if not queue.done():
        count = in_flight.release_all()
        logger.warning("stopping: gave %d in-flight jobs back to the queue", count)
    await asyncio.wait({queue})

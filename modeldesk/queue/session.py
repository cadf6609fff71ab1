"""One connection session of a worker: its pools and pgqueuer manager, until stopped or lost.

A worker serves the queue in sessions. A session opens its own connections
(the gate pool pgqueuer shares, and the probe steps' engine), registers the
entrypoints, gives back the jobs of earlier lost sessions, and runs pgqueuer
until one of these ends it:

- stop: in-flight jobs finish within `shutdown_grace_seconds` (or until
  `release` is set) and the rest go back to the queue; `serve` returns.
- lost: a statement of pgqueuer's or a limits refresh finds the database
  unreachable, or the LISTEN connection closes (see `SessionDriver`).
  In-flight steps are cancelled at once, since they could record nothing;
  their jobs stay picked under this session's queue manager id until the
  next session puts them back in the queue (`release_jobs_of`), so each runs
  again once. Should this worker never come back, any worker re-picks them
  once their heartbeats are stale. `SessionLost` is raised.
- failure: pgqueuer's loop or a limits refresh fails otherwise (a bug).
  In-flight jobs finish within the grace, then the error is raised.

A session opens at most GATE_POOL_SIZE + PROBE_POOL_SIZE = 8 connections,
however many calls it has in flight: a probe holds a connection only for one
short statement at a time (claim, record), never across its provider call.
So on the embedded server (100 connections) a dozen workers and `serve` fit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

import asyncpg  # type: ignore[import-untyped]
import httpx
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.types import QueueManagerId

from modeldesk.context import AppContext
from modeldesk.db.job_queue import EXPANSION_ENTRYPOINT
from modeldesk.db.session import Database
from modeldesk.queue.gate_pool import open_gate_pool
from modeldesk.queue.jobs import ExpansionJobHandler, InFlightSteps, JobServices
from modeldesk.queue.limits import ProviderEntrypoints, ProviderLimits
from modeldesk.queue.manager import ProviderQueueManager, SessionDriver, release_jobs_of
from modeldesk.queue.summary_jobs import ProviderJobs
from modeldesk.runs import is_database_unavailable

logger = logging.getLogger(__name__)

# Jobs one dequeue may take, and how many finished jobs pgqueuer buffers before
# logging them (probe jobs free their slots at once anyway: `FinishedJobs`).
BATCH_SIZE = 10
# pgqueuer (its listener, dequeues, logs, heartbeats) and the gates share it.
GATE_POOL_SIZE = 4
# The probe steps' own engine, apart from the API's in `modeldesk serve`: a
# busy API cannot starve the worker of connections, nor the worker the API.
PROBE_POOL_SIZE = 4
EXPANSION_CONCURRENCY = 1

# Called once the session serves the queue: its queue manager id, and how many
# jobs of earlier lost sessions it gave back to the queue.
OnServing = Callable[[QueueManagerId, int], None]


class SessionLost(Exception):
    """The session's connection to the database was lost; `__cause__` says how."""


class QueueSession:
    def __init__(
        self,
        context: AppContext,
        client: httpx.AsyncClient,
        stop: asyncio.Event,
        release: asyncio.Event,
    ) -> None:
        self._context = context
        self._client = client
        self._stop = stop
        self._release = release

    async def serve(self, lost_sessions: Sequence[QueueManagerId], on_serving: OnServing) -> None:
        """Serve the queue until stopped (return) or lost (`SessionLost`), or raise why not."""
        url = self._context.db.url
        pool = await open_gate_pool(url, max_size=GATE_POOL_SIZE)
        db = Database(url, pool_size=PROBE_POOL_SIZE, max_overflow=0)
        driver = SessionDriver(pool)
        try:
            await self._serve(pool, db, driver, lost_sessions, on_serving)
        except Exception as exc:
            if driver.lost.is_set() and not isinstance(exc, SessionLost):
                # Whatever failed after the loss failed because of it.
                raise SessionLost("the database connection was lost") from driver.cause
            raise
        finally:
            await db.dispose()
            if driver.lost.is_set():
                pool.terminate()  # its connections are gone; closing would wait on them
            else:
                await pool.close()

    async def _serve(
        self,
        pool: asyncpg.Pool,
        db: Database,
        driver: SessionDriver,
        lost_sessions: Sequence[QueueManagerId],
        on_serving: OnServing,
    ) -> None:
        settings = self._context.settings
        queries = Queries(driver)
        manager = ProviderQueueManager(queries)
        services = JobServices(
            db=db, gate_pool=pool, queries=queries, settings=settings, client=self._client
        )
        # One expansion call at a time across the fleet: its provider's
        # `max_parallel_requests` does not cover it (see ExpansionJobHandler).
        manager.add_entrypoint(
            EXPANSION_ENTRYPOINT,
            ExpansionJobHandler(services),
            concurrency_limit=EXPANSION_CONCURRENCY,
        )

        def handler_for(provider: ProviderLimits) -> ProviderJobs:
            # Probes, and the summaries and analyses whose model this provider serves.
            return ProviderJobs(services, provider)

        providers = ProviderEntrypoints(manager, handler_for)
        await manager.verify_structure()
        await providers.refresh(db)
        given_back = await release_jobs_of(pool, lost_sessions)
        if driver.lost.is_set():
            raise SessionLost("the database connection was lost") from driver.cause
        on_serving(manager.queue_manager_id, given_back)

        queue = asyncio.create_task(
            manager.run(
                # New providers' jobs only notify workers that already know the
                # entrypoint, so poll at least as often as the limits refresh.
                dequeue_timeout=timedelta(seconds=settings.limits_refresh_seconds),
                batch_size=BATCH_SIZE,
                heartbeat_timeout=timedelta(seconds=settings.job_heartbeat_seconds),
                shutdown_on_listener_failure=True,
            ),
            name="pgqueuer",
        )
        refresher = asyncio.create_task(
            providers.keep_refreshed(db, settings.limits_refresh_seconds, self._stop),
            name="limits-refresh",
        )
        ending = {
            asyncio.create_task(self._stop.wait()),
            asyncio.create_task(driver.lost.wait()),
        }
        try:
            await asyncio.wait({queue, refresher, *ending}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in ending:
                task.cancel()
            manager.shutdown.set()
            refresh_error = _failure(refresher)
            if refresh_error is not None and is_database_unavailable(refresh_error):
                driver.abandon(refresh_error)
            if driver.lost.is_set():
                released = services.in_flight.release_all("the database connection was lost")
                logger.debug("session lost: %d steps released", released)
                await asyncio.wait({queue})
            else:
                grace = settings.shutdown_grace_seconds
                await _drain(queue, services.in_flight, grace, self._release)
            refresher.cancel()
            await asyncio.wait({refresher})
        if driver.lost.is_set():
            raise SessionLost("the database connection was lost") from driver.cause
        if refresh_error is not None:
            raise refresh_error
        queue.result()  # a queue that stopped by itself failed: raise why
        if not self._stop.is_set():
            raise RuntimeError("pgqueuer's loop ended by itself")


def _failure(task: asyncio.Task[None]) -> BaseException | None:
    if task.done() and not task.cancelled():
        return task.exception()
    return None


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

"""The worker process: pgqueuer on a small asyncpg pool, one entrypoint per provider.

Run any number of workers on any machines against one database: the limits
they enforce (parallel calls, calls per minute, holds after a rate limit) live
in PostgreSQL, not in a process. On shutdown in-flight jobs finish; those
still running after `shutdown_grace_seconds` (or at a second signal) go back
to the queue for another worker. A worker killed outright loses nothing
either: its jobs stop sending heartbeats and are run again by another worker
after `job_heartbeat_seconds`.

The worker survives PostgreSQL going away (a crash, a restart, a failover):
it serves the queue in sessions (see `session`), and when one ends other
than by a signal, it opens the next with a capped backoff. Only SIGTERM/SIGINT
(or `shutdown`) ends it, or a bug at start-up: a first session that fails for
any reason but an unreachable database (a wrong password, missing tables) is
a configuration to fix, not an outage to wait out. Each outage is logged
once, with its cause, and again when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import httpx
from pgqueuer.domain.types import QueueManagerId

from modeldesk.context import AppContext
from modeldesk.db.reconnect import Reconnection
from modeldesk.queue.log_trimming import trim_queue_log_until
from modeldesk.queue.session import QueueSession, SessionLost
from modeldesk.queue.signals import shutdown_on_signals
from modeldesk.runs import is_database_unavailable

logger = logging.getLogger(__name__)


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

            def new_session() -> QueueSession:
                return QueueSession(context, client, stop, release)

            trimming = asyncio.create_task(
                trim_queue_log_until(context.db, context.settings.queue_log_retention, stop)
            )
            try:
                await _Sessions(new_session, stop).run()
            finally:
                trimming.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await trimming
    logger.info("worker stopped")


class _Sessions:
    """One session after another until stopped, with one log line per outage and its end."""

    def __init__(self, new_session: Callable[[], QueueSession], stop: asyncio.Event) -> None:
        self._new_session = new_session
        self._stop = stop
        self._reconnection = Reconnection()
        # Sessions lost with jobs still picked, for the next session to give back.
        self._lost: list[QueueManagerId] = []
        self._serving_session: QueueManagerId | None = None
        self._served = False
        self._database_outage = False  # rather than a failure with the database up

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._new_session().serve(self._lost, self._serving)
                return
            except Exception as exc:
                if self._serving_session is not None:
                    self._lost.append(self._serving_session)
                    self._serving_session = None
                self._failed(exc)
            await self._reconnection.wait(self._stop)

    def _serving(self, manager_id: QueueManagerId, given_back: int) -> None:
        outage = self._reconnection.restored()
        self._lost.clear()  # given back
        self._serving_session = manager_id
        if outage is not None:
            logger.warning(
                "%s after %.1f s; worker %s serving the queue "
                "(%d jobs of the lost connection back in the queue)",
                "database reachable again" if self._database_outage else "reconnected",
                outage,
                manager_id,
                given_back,
            )
        if not self._served:
            logger.info("worker %s started", manager_id)
        self._served = True

    def _failed(self, exc: Exception) -> None:
        """Log the failure if it begins an outage; raise it if it is a bug at start-up."""
        unavailable = isinstance(exc, SessionLost) or is_database_unavailable(exc)
        if not (self._served or unavailable):
            raise exc  # never served: a configuration to fix, not an outage to wait out
        if not self._reconnection.lost():
            logger.debug("reconnecting failed again: %s: %s", type(exc).__name__, exc)
            return
        self._database_outage = unavailable
        limit = self._reconnection.max_delay
        if not unavailable:
            logger.error(
                "worker's queue session failed; reconnecting (at most %.0f s apart)",
                limit,
                exc_info=exc,
            )
        elif self._served:
            cause = exc.__cause__ if isinstance(exc, SessionLost) else exc
            logger.error(
                "worker lost the database (%s: %s); its in-flight jobs will run again; "
                "reconnecting (at most %.0f s apart)",
                type(cause).__name__,
                cause,
                limit,
            )
        else:
            logger.error(
                "worker cannot reach the database (%s: %s); retrying (at most %.0f s apart)",
                type(exc).__name__,
                exc,
                limit,
            )

"""pgqueuer's QueueManager, taught to change entrypoints while it runs.

This is the one module that knows pgqueuer's internals (pinned to 1.6,
guarded by tests/queue/test_pgqueuer_internals.py):

- pgqueuer enforces an entrypoint's `concurrency_limit` in its dequeue SQL,
  counting picked jobs across every worker, but takes the number from the
  dequeuing worker's registration, which it reads again on every dequeue. So
  changing `executor.parameters.concurrency_limit` in place changes the limit
  at the next dequeue, and once every worker has refreshed, the fleet agrees.
- `entrypoints_below_capacity_limits()` names the entrypoints a dequeue may
  take jobs from. Leaving a paused entrypoint out stops new jobs from starting
  while its running jobs finish normally, which unregistering could not do.
- A job holds its slot until its row is deleted, which pgqueuer does from a
  buffer flushed every `batch_size` jobs or ~0.1 s; `FinishedJobs` deletes
  it at once with pgqueuer's own statement (see there), or the probe step's
  record does, in its own transaction (`job_queue.finish_job_ctes`).
- pgqueuer's loop dequeues when a NOTIFY of its table arrives, and every
  deleted job sends one to every worker: all of them would run a dequeue for
  each slot freed anywhere, and race for it. A slot is better taken by the
  worker that freed it, at once, without the NOTIFY's trip through the
  server: `SessionDriver` hears no deletes, and `FinishedJobs` wakes its own
  worker's loop (`wake_dequeue`). A slot freed otherwise (a re-queue, a
  worker's jobs given back) is found by pgqueuer's own re-poll, 0.1 s while
  jobs wait.
- A picked job belongs to the queue manager id in its row. When a worker's
  connection session is lost, `SessionDriver` keeps pgqueuer from writing
  anything more for it, and `release_jobs_of` gives its jobs back to the
  queue from the next session, in the form of pgqueuer's own retry statement.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import asyncpg  # type: ignore[import-untyped]
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.core.executors import AsyncEntrypoint
from pgqueuer.core.qm import QueueManager
from pgqueuer.domain.models import Job
from pgqueuer.domain.settings import db_settings
from pgqueuer.domain.types import QueueEntrypoint, QueueManagerId
from pgqueuer.ports.driver import NotifyCallback

from modeldesk.runs import is_database_unavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

_QUEUE_TABLE = db_settings().queue_table


@dataclasses.dataclass
class ProviderQueueManager(QueueManager):
    paused: set[QueueEntrypoint] = dataclasses.field(default_factory=set)
    _structure_verified: bool = dataclasses.field(default=False, init=False)

    async def verify_structure(self) -> None:
        """pgqueuer's check of its tables, once: the worker runs it before `run` does.

        So a missing table fails the worker's start-up, where it is reported as
        the configuration bug it is, rather than inside the running queue loop.
        """
        if not self._structure_verified:
            await super().verify_structure()
            self._structure_verified = True

    def entrypoints_below_capacity_limits(self) -> set[QueueEntrypoint]:
        return set(self.entrypoint_registry) - self.paused

    def has_entrypoint(self, name: str) -> bool:
        return QueueEntrypoint(name) in self.entrypoint_registry

    def add_entrypoint(
        self, name: str, handler: AsyncEntrypoint, *, concurrency_limit: int
    ) -> None:
        """Register `handler` for `name`; `concurrency_limit` 0 means unlimited (pgqueuer's rule).

        A job whose handler raises (a bug, not a provider failure: those are
        recorded by the probe step) is kept as `failed` in the queue table
        rather than deleted, so it can be inspected and re-queued.
        """
        register = self.entrypoint(
            name, concurrency_limit=concurrency_limit, accepts_context=False, on_failure="hold"
        )
        register(handler)

    def set_concurrency_limit(self, name: str, limit: int) -> None:
        if limit < 0:
            raise ValueError("a concurrency limit is >= 0")
        self.entrypoint_registry[QueueEntrypoint(name)].parameters.concurrency_limit = limit

    def set_paused(self, name: str, paused: bool) -> None:
        entrypoint = QueueEntrypoint(name)
        if paused:
            self.paused.add(entrypoint)
        else:
            self.paused.discard(entrypoint)


class FinishedJobs:
    """Records finished jobs as successful now, freeing their provider slots at once.

    Otherwise a slot stays taken until pgqueuer's status buffer is flushed,
    dead time on every slot of a provider working through a backlog. This is
    pgqueuer's own log statement; its later log of the same job finds no row
    and writes nothing, so the job is logged once either way.

    Jobs that finish while a write is in flight go together in the next one:
    one statement per group rather than per job, and no added wait when jobs
    finish one by one. Each write, and each job ended by a statement of its
    step's own (`ended_by_step`), wakes this worker's dequeue for the slots.
    """

    def __init__(self, queries: Queries) -> None:
        self._queries = queries
        self._waiting: list[tuple[Job, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def finish(self, job: Job) -> None:
        """Return once the job is logged; raises what the write raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((job, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="finished-jobs")
        await done

    def ended_by_step(self) -> None:
        """A job was ended in its step's own transaction: dequeue for its slot now."""
        self._dequeue_now()

    def _dequeue_now(self) -> None:
        # Outside a worker's session (tests) pgqueuer's own driver hears the NOTIFY.
        driver = self._queries.driver
        if isinstance(driver, SessionDriver):
            driver.wake_dequeue()

    async def _write_all(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                await self._queries.log_jobs([(job, "successful", None) for job, _ in group])
            except Exception as exc:
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
            else:
                self._dequeue_now()
                for _, done in group:
                    if not done.done():
                        done.set_result(None)


class SessionDriver(AsyncpgPoolDriver):
    """pgqueuer's pool driver for one connection session, silent once the session is lost.

    When PostgreSQL goes away, every part of pgqueuer (the dequeue loop, its
    status and heartbeat buffers, the retry of each in-flight job) would fail
    and log a traceback of its own, and a status buffered meanwhile and
    flushed once the server is back could mark a job that never finished as
    failed. So the first statement that fails because the database is
    unreachable, or the LISTEN connection closing, ends the session: `lost`
    is set with the `cause`, and that statement and every later one do
    nothing and return nothing. The worker then tears the session down and
    opens a new one, which gives the lost session's jobs back to the queue
    (`release_jobs_of`).
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.lost = asyncio.Event()
        self.cause: BaseException | None = None
        self._listener: NotifyCallback | None = None
        self._channel = ""

    def abandon(self, cause: BaseException) -> None:
        if not self.lost.is_set():
            self.cause = cause
            self.lost.set()

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        return await self._unless_lost(partial(super().fetch, query, *args), [])

    async def execute(self, query: str, *args: object) -> str:
        return await self._unless_lost(partial(super().execute, query, *args), "")

    async def notify(self, channel: str, payload: str) -> None:
        await self._unless_lost(partial(super().notify, channel, payload), None)

    async def _unless_lost(self, statement: Callable[[], Awaitable[T]], nothing: T) -> T:
        """Run `statement`, unless the session is lost; its loss makes it `nothing`."""
        if not self.lost.is_set():
            try:
                return await statement()
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                self.abandon(exc)
        return nothing

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        self._listener, self._channel = callback, channel
        await super().add_listener(channel, self._heard)
        listening = self._listener_connection
        if listening is not None:
            # Without it the worker hears of no new job; PostgreSQL may be fine otherwise.
            listening.add_termination_listener(self._listener_closed)

    def _heard(self, payload: str | bytes | bytearray) -> None:
        """Pass a NOTIFY on to pgqueuer, unless it is a deleted job (see the module docstring)."""
        if self._listener is not None and not _is_deleted_job(payload):
            self._listener(payload)

    def wake_dequeue(self) -> None:
        """Have pgqueuer's loop dequeue now, as a NOTIFY of a change to its table would."""
        if self._listener is not None:
            self._listener(
                json.dumps(
                    {
                        "channel": self._channel,
                        "operation": "delete",
                        "sent_at": datetime.now(UTC).isoformat(),
                        "table": _QUEUE_TABLE,
                        "type": "table_changed_event",
                    }
                )
            )

    def _listener_closed(self, connection: object) -> None:
        self.abandon(ConnectionResetError("the LISTEN connection closed"))

    async def __aexit__(self, *exc_info: object) -> None:
        # Resetting a lost session's LISTEN connection can only fail; its pool,
        # closed by the worker, takes the connection with it.
        if not self.lost.is_set():
            await super().__aexit__(*exc_info)


def _is_deleted_job(payload: str | bytes | bytearray) -> bool:
    try:
        event = json.loads(payload)
    except ValueError:
        return False  # pgqueuer reports what it cannot parse
    return (
        isinstance(event, dict)
        and event.get("type") == "table_changed_event"
        and event.get("operation") == "delete"
    )


async def release_jobs_of(pool: asyncpg.Pool, managers: Sequence[QueueManagerId]) -> int:
    """Put back in the queue, at once, the jobs still picked by the lost sessions `managers`.

    Their steps were cancelled when the sessions were lost, so each job runs
    again once. A job another worker has re-picked meanwhile (its heartbeat
    had gone stale) belongs to that worker now and is left alone.
    """
    if not managers:
        return 0
    names = db_settings().qualified
    released: int = await pool.fetchval(
        f"""
        WITH released AS (
            UPDATE {names.queue_table}
            SET status = 'queued', execute_after = NOW(), attempts = attempts + 1,
                updated = NOW(), queue_manager_id = NULL
            WHERE queue_manager_id = ANY($1::uuid[]) AND status = 'picked'
            RETURNING id, entrypoint, priority
        ), logged AS (
            INSERT INTO {names.queue_table_log} (job_id, status, entrypoint, priority)
            SELECT id, 'queued', entrypoint, priority FROM released
        )
        SELECT count(*) FROM released
        """,
        list(managers),
    )
    return released

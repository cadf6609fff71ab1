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
  it at once with pgqueuer's own statement (see there).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.core.executors import AsyncEntrypoint
from pgqueuer.core.qm import QueueManager
from pgqueuer.domain.models import Job
from pgqueuer.domain.types import QueueEntrypoint

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class ProviderQueueManager(QueueManager):
    paused: set[QueueEntrypoint] = dataclasses.field(default_factory=set)

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
    one statement (and one NOTIFY, which wakes every worker to dequeue) per
    group rather than per job, and no added wait when jobs finish one by one.
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
                for _, done in group:
                    if not done.done():
                        done.set_result(None)

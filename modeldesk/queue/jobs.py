"""What a worker does with one job: admit, run the step, and turn "later" into a re-queue.

Waiting never happens inside a worker. A call that may not start yet (its
provider is held, disabled, or out of its per-minute budget) and a step that
must be retried both go back to the queue with a delay through pgqueuer's
`RetryRequested`, which releases the job's concurrency slot at once. Probe
jobs and LLM expansion jobs pass the same admission and holds
(`ProviderCallHandler`): every call a provider receives counts against its
limits, whichever job made it.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import ClassVar, TypeVar

import asyncpg  # type: ignore[import-untyped]
import httpx
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.models import Job

from modeldesk.config import Settings
from modeldesk.db.job_queue import decode_payload
from modeldesk.db.session import Database
from modeldesk.log_format import log_context
from modeldesk.queue.admission import admit_call
from modeldesk.queue.holds import hold_provider
from modeldesk.queue.last_errors import note_failed_call
from modeldesk.queue.limits import ProviderLimits
from modeldesk.queue.manager import FinishedJobs
from modeldesk.runs import (
    ExpansionCall,
    QueueJob,
    StepOutcome,
    admission_delay,
    execute_expansion,
    execute_probe,
    handle_expansion_internal_error,
    handle_internal_error,
    is_database_unavailable,
    prepare_expansion,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

ProbeStep = Callable[
    [Database, Settings, httpx.AsyncClient, int, QueueJob | None], Awaitable[StepOutcome]
]
ExpansionStep = Callable[
    [Database, Settings, httpx.AsyncClient, ExpansionCall], Awaitable[StepOutcome]
]

# Retries while PostgreSQL is unreachable back off up to this, however long it lasts.
_MAX_DATABASE_RETRY_SECONDS = 60.0

# The probe job being handled: pgqueuer runs each job in a task of its own, so
# this is per job. The probe step learns from it which job to end with its
# record, and the handler whether the step did.
_PROBE_JOB: ContextVar[QueueJob] = ContextVar("probe_job")


class JobReleased(Exception):
    """The worker gave this job back to the queue mid-step; the message says why."""


class InFlightSteps:
    """The steps running in this worker, so a shutdown past its grace, or a lost
    database connection, can release them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self._released_because: str | None = None

    def __len__(self) -> int:
        return len(self._tasks)

    async def run(self, step: Awaitable[T]) -> T:
        if self._released_because is not None:
            # Released already: a step admitted meanwhile must not start a call.
            if asyncio.iscoroutine(step):
                step.close()
            raise JobReleased(self._released_because)
        task: asyncio.Task[T] = asyncio.ensure_future(step)
        self._tasks.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                # cancelled by release_all, not by our caller
                raise JobReleased(self._released_because) from None
            raise
        finally:
            self._tasks.discard(task)

    def release_all(self, reason: str = "the worker is shutting down") -> int:
        """Cancel every step, and any step started from now on; returns how many ran."""
        self._released_because = reason
        for task in self._tasks:
            task.cancel()
        return len(self._tasks)


@dataclass
class JobServices:
    """What every job handler of one worker shares."""

    db: Database
    # Admission and holds: one round trip each, outside SQLAlchemy (see gate_pool).
    gate_pool: asyncpg.Pool
    queries: Queries
    settings: Settings
    client: httpx.AsyncClient
    in_flight: InFlightSteps = field(default_factory=InFlightSteps)
    probe_step: ProbeStep = execute_probe
    expansion_step: ExpansionStep = execute_expansion
    finished: FinishedJobs = field(init=False)

    def __post_init__(self) -> None:
        self.finished = FinishedJobs(self.queries)


def _retry(seconds: float, reason: str) -> RetryRequested:
    return RetryRequested(delay=timedelta(seconds=max(0.0, seconds)), reason=reason)


def database_retry_delay(attempts: int) -> float:
    """Doubling from 1 s with each attempt the job has had, up to a minute."""
    return float(min(_MAX_DATABASE_RETRY_SECONDS, 2.0 ** min(attempts, 6)))


@asynccontextmanager
async def _requeued_when_interrupted(job: Job, label: str) -> AsyncIterator[None]:
    """A step released at shutdown, or cut off from the database, runs again later."""
    try:
        yield
    except JobReleased as released:
        logger.info("%s released: %s", label, released)
        raise _retry(0, f"released: {released}") from None
    except Exception as exc:
        # The probe step reports an unreachable database as DatabaseUnavailableError;
        # a database short of connections can surface as a plain driver error.
        if not is_database_unavailable(exc):
            raise
        delay = database_retry_delay(job.attempts)
        # Info, not warning: when the database is down, the worker reports the outage once.
        logger.info("%s: database unavailable (%s); retry in %.0f s", label, exc, delay)
        raise _retry(delay, "database unavailable") from exc


class ProviderCallHandler(ABC):
    """What probe and expansion jobs share: admission before the call, re-queues after it.

    A step that is not admitted, or whose outcome is a retry, goes back to the
    queue with its delay (after a rate limit, holding the provider until then);
    an error that escapes the step is a bug, handed to `_internal_error`,
    which retries a bounded number of times and then records a failure, so
    whatever waits for the job (a run, a definition) always finishes.
    """

    # The payload is `{payload_key: N}`, N the id of the probe or definition.
    payload_key: ClassVar[str]

    def __init__(self, services: JobServices) -> None:
        self._services = services

    @abstractmethod
    def _label(self, item_id: int, job: Job) -> str: ...

    @abstractmethod
    async def _admitted_step(self, item_id: int, label: str) -> StepOutcome:
        """Pass the provider's admission (`_admit`, or in the step's own claim), then run
        the step."""

    @abstractmethod
    async def _internal_error(self, item_id: int, error: Exception) -> StepOutcome: ...

    def _log_fields(self, item_id: int) -> dict[str, object]:
        """What this job's log lines carry besides its job id (see `log_format`)."""
        return {}

    async def __call__(self, job: Job) -> None:
        item_id = int(decode_payload(job.payload)[self.payload_key])
        with log_context(job_id=job.id, **self._log_fields(item_id)):
            await self._handle(job, item_id)

    async def _handle(self, job: Job, item_id: int) -> None:
        label = self._label(item_id, job)
        async with _requeued_when_interrupted(job, label):
            try:
                outcome = await self._admitted_step(item_id, label)
            except (RetryRequested, JobReleased):
                raise
            except Exception as exc:
                if is_database_unavailable(exc):
                    raise
                outcome = await self._internal_error(item_id, exc)
            if outcome.failure is not None and outcome.provider_id is not None:
                await note_failed_call(
                    self._services.gate_pool, outcome.provider_id, outcome.failure
                )
            if outcome.kind == "retry":
                raise await self._retry_later(outcome, label)
        await self._free_slot(job, label)

    async def _admit(self, provider_id: int, provider_name: str, label: str) -> None:
        """Return when a call of the provider may start now; else raise the re-queue."""
        admission = await admit_call(self._services.gate_pool, provider_id)
        if not admission.admitted:
            wait = admission_delay(admission.wait_seconds, self._services.settings)
            logger.debug("%s waits %.2f s: provider %s", label, wait, admission.reason)
            raise _retry(wait, f"provider {provider_name}: {admission.reason}")

    async def _retry_later(self, outcome: StepOutcome, label: str) -> RetryRequested:
        if outcome.hold_provider and outcome.provider_id is not None:
            # The 429 itself (status, provider message, Retry-After) is what an
            # operator looking at the hold wants to see.
            cause = outcome.failure.message if outcome.failure else "rate limited"
            until = await hold_provider(
                self._services.gate_pool,
                outcome.provider_id,
                outcome.delay_seconds,
                reason=f"{cause} ({label})",
            )
            logger.info("%s: provider held until %s after a rate limit", label, until)
        return _retry(outcome.delay_seconds, "rate limited" if outcome.hold_provider else "retry")

    async def _free_slot(self, job: Job, label: str) -> None:
        try:
            await self._services.finished.finish(job)
        except Exception:
            # pgqueuer logs the job itself a moment later; only the slot waits longer.
            logger.warning("%s: could not free its slot early", label, exc_info=True)


class ProbeJobHandler(ProviderCallHandler):
    """The handler of one provider's `probe.<name>` entrypoint; payload `{"probe_id": N}`.

    What a provider slot holds beyond the call is cut to two round trips: the
    admission comes with the claim, and the job's end with the record
    (`execute_probe` with its `QueueJob`).
    """

    payload_key = "probe_id"

    def __init__(self, services: JobServices, provider: ProviderLimits) -> None:
        super().__init__(services)
        self._provider_id = provider.provider_id
        self._provider_name = provider.name

    async def __call__(self, job: Job) -> None:
        _PROBE_JOB.set(QueueJob(job_id=job.id, provider_id=self._provider_id))
        await super().__call__(job)

    def _label(self, item_id: int, job: Job) -> str:
        return f"probe {item_id} ({self._provider_name}, job {job.id})"

    def _log_fields(self, item_id: int) -> dict[str, object]:
        return {"probe_id": item_id, "provider": self._provider_name}

    async def _admitted_step(self, item_id: int, label: str) -> StepOutcome:
        # The step passes the admission itself, in its claim's round trip.
        services = self._services
        step = services.probe_step(
            services.db, services.settings, services.client, item_id, _PROBE_JOB.get()
        )
        return await services.in_flight.run(step)

    async def _free_slot(self, job: Job, label: str) -> None:
        if _PROBE_JOB.get().finished:  # the record ended the job
            self._services.finished.ended_by_step()
        else:
            await super()._free_slot(job, label)

    async def _internal_error(self, item_id: int, error: Exception) -> StepOutcome:
        return await handle_internal_error(self._services.db, self._provider_id, item_id, error)


class ExpansionJobHandler(ProviderCallHandler):
    """The `expand_scenarios` entrypoint; payload `{"definition_id": N}`.

    The model (so the provider) is resolved when the job runs, then the call
    passes its provider's admission and holds like a probe. It does not go
    through the provider's `probe.<name>` entrypoint: that is bound to one
    provider when the job is queued and paused while the provider is
    disabled, so an expansion queued there would wait for the provider instead
    of falling back to another model as SPEC requires. Its own entrypoint runs
    one expansion at a time fleet-wide (see `worker`), so a provider sees at
    most one call beyond its `max_parallel_requests`, still within its
    requests per minute, and only when an operator asks for an expansion.
    """

    payload_key = "definition_id"

    def _label(self, item_id: int, job: Job) -> str:
        return f"expansion of definition {item_id} (job {job.id})"

    async def _admitted_step(self, item_id: int, label: str) -> StepOutcome:
        services = self._services
        call = await prepare_expansion(services.db, item_id)
        if call is None:
            return StepOutcome("done", None)
        await self._admit(call.provider_id, call.provider_name, call.label)
        step = services.expansion_step(services.db, services.settings, services.client, call)
        return await services.in_flight.run(step)

    async def _internal_error(self, item_id: int, error: Exception) -> StepOutcome:
        return await handle_expansion_internal_error(self._services.db, item_id, error)

"""What a worker does with one job: admit, run the step, and turn "later" into a re-queue.

Waiting never happens inside a worker. A call that may not start yet (its
provider is held, disabled, or out of its per-minute budget) and a probe that
must be retried both go back to the queue with a delay through pgqueuer's
`RetryRequested`, which releases the job's concurrency slot at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import asyncpg  # type: ignore[import-untyped]
import httpx
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.models import Job

from modeldesk.config import Settings
from modeldesk.db.job_queue import decode_payload
from modeldesk.db.session import Database
from modeldesk.queue.admission import admit_call
from modeldesk.queue.gate_pool import is_database_unavailable, unavailable_on_connection_loss
from modeldesk.queue.holds import hold_provider
from modeldesk.queue.limits import ProviderLimits
from modeldesk.queue.manager import FinishedJobs
from modeldesk.runs.expansion import expand_definition
from modeldesk.runs.probe_step import ProbeOutcome, execute_probe, handle_internal_error

logger = logging.getLogger(__name__)

T = TypeVar("T")

ProbeStep = Callable[[Database, Settings, httpx.AsyncClient, int], Awaitable[ProbeOutcome]]
ExpansionStep = Callable[[Database, Settings, httpx.AsyncClient, int], Awaitable[None]]

# Retries while PostgreSQL is unreachable back off up to this, however long it lasts.
_MAX_DATABASE_RETRY_SECONDS = 60.0


class JobReleased(Exception):
    """The worker is shutting down and gave this job back to the queue mid-step."""


class InFlightSteps:
    """The steps running in this worker, so a shutdown past its grace can release them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    async def run(self, step: Awaitable[T]) -> T:
        task: asyncio.Task[T] = asyncio.ensure_future(step)
        self._tasks.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                raise JobReleased from None  # cancelled by release_all, not by our caller
            raise
        finally:
            self._tasks.discard(task)

    def release_all(self) -> int:
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
    expansion_step: ExpansionStep = expand_definition
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
    except JobReleased:
        logger.info("%s released: the worker is shutting down", label)
        raise _retry(0, "released at worker shutdown") from None
    except Exception as exc:
        # The probe step reports an unreachable database as DatabaseUnavailableError;
        # a database short of connections can surface as a plain driver error.
        if not is_database_unavailable(exc):
            raise
        delay = database_retry_delay(job.attempts)
        logger.warning("%s: database unavailable (%s); retry in %.0f s", label, exc, delay)
        raise _retry(delay, "database unavailable") from exc


class ProbeJobHandler:
    """The handler of one provider's `probe.<name>` entrypoint; payload `{"probe_id": N}`."""

    def __init__(self, services: JobServices, provider: ProviderLimits) -> None:
        self._services = services
        self._provider_id = provider.provider_id
        self._provider_name = provider.name

    async def __call__(self, job: Job) -> None:
        probe_id = int(decode_payload(job.payload)["probe_id"])
        label = f"probe {probe_id} ({self._provider_name}, job {job.id})"
        async with _requeued_when_interrupted(job, label):
            try:
                outcome = await self._admitted_step(probe_id, label)
            except (RetryRequested, JobReleased):
                raise
            except Exception as exc:
                if is_database_unavailable(exc):
                    raise
                # A bug, not a provider failure: bounded retries, then a recorded
                # failure, so the probe's run still finishes.
                outcome = await handle_internal_error(
                    self._services.db, self._provider_id, probe_id, exc
                )
            if outcome.kind == "retry":
                raise await self._retry_later(outcome, label)
        await self._free_slot(job, label)

    async def _admitted_step(self, probe_id: int, label: str) -> ProbeOutcome:
        services = self._services
        async with unavailable_on_connection_loss():
            admission = await admit_call(services.gate_pool, self._provider_id)
        if not admission.admitted:
            wait = admission.wait_seconds
            if wait is None:
                wait = services.settings.limits_refresh_seconds
            logger.debug("%s waits %.2f s: provider %s", label, wait, admission.reason)
            raise _retry(wait, f"provider {self._provider_name}: {admission.reason}")
        step = services.probe_step(services.db, services.settings, services.client, probe_id)
        return await services.in_flight.run(step)

    async def _retry_later(self, outcome: ProbeOutcome, label: str) -> RetryRequested:
        if outcome.hold_provider:
            async with unavailable_on_connection_loss():
                until = await hold_provider(
                    self._services.gate_pool,
                    self._provider_id,
                    outcome.delay_seconds,
                    reason=f"rate limited ({label})",
                )
            logger.info("provider %s held until %s after a rate limit", self._provider_name, until)
        return _retry(outcome.delay_seconds, "rate limited" if outcome.hold_provider else "retry")

    async def _free_slot(self, job: Job, label: str) -> None:
        try:
            await self._services.finished.finish(job)
        except Exception:
            # pgqueuer logs the job itself a moment later; only the slot waits longer.
            logger.warning("%s: could not free its slot early", label, exc_info=True)


class ExpansionJobHandler:
    """The `expand_scenarios` entrypoint; payload `{"definition_id": N}`."""

    def __init__(self, services: JobServices) -> None:
        self._services = services

    async def __call__(self, job: Job) -> None:
        definition_id = int(decode_payload(job.payload)["definition_id"])
        services = self._services
        step = services.expansion_step(
            services.db, services.settings, services.client, definition_id
        )
        async with _requeued_when_interrupted(job, f"expansion of definition {definition_id}"):
            await services.in_flight.run(step)

"""The job handlers: every "not now" becomes a delayed re-queue, never a wait in the worker."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from asyncpg.exceptions import (  # type: ignore[import-untyped]
    TooManyConnectionsError,
    UniqueViolationError,
)
from pgqueuer.domain.errors import RetryRequested
from queue_support import picked_job, provider_held_until
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ProviderUpdate, models_by_provider_ids, update_provider
from modeldesk.config import Settings
from modeldesk.db.run_tables import Probe
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus
from modeldesk.errors import DatabaseUnavailableError
from modeldesk.queue.admission import admit_call
from modeldesk.queue.jobs import JobServices, ProbeJobHandler, database_retry_delay
from modeldesk.queue.limits import ProviderLimits
from modeldesk.runs import get_run
from modeldesk.runs.probe_records import QueueJob
from modeldesk.runs.step_outcome import MAX_INTERNAL_ERRORS, StepOutcome
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run


class RecordingStep:
    """Stands in for the probe step: records its calls and answers as told."""

    def __init__(self, outcome: StepOutcome | Exception | None = None) -> None:
        self.calls: list[int] = []
        self.jobs: list[QueueJob | None] = []
        self.outcome = outcome
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(
        self,
        db: Database,
        settings: Settings,
        client: httpx.AsyncClient,
        item_id: int,
        job: QueueJob | None,
    ) -> StepOutcome:
        self.calls.append(item_id)
        self.jobs.append(job)
        self.started.set()
        if self.outcome is None:
            await self.release.wait()  # a call that takes until released
        if isinstance(self.outcome, Exception):
            raise self.outcome
        assert isinstance(self.outcome, StepOutcome)
        return self.outcome


@pytest.fixture
async def provider(db: Database, admin: Principal) -> ProviderLimits:
    row, _ = await add_simulated_provider(
        db, admin, "http://127.0.0.1:9", "gated", requests_per_minute=1
    )
    return ProviderLimits(row.id, row.name, row.max_parallel_requests, row.is_enabled)


def _handler(
    services: JobServices, provider: ProviderLimits, step: RecordingStep
) -> ProbeJobHandler:
    services.probe_step = step
    return ProbeJobHandler(services, provider)


async def test_a_probe_step_runs_for_its_queue_job(
    services: JobServices, provider: ProviderLimits
) -> None:
    step = RecordingStep(StepOutcome("done", provider.provider_id))
    await _handler(services, provider, step)(picked_job({"probe_id": 42}))
    assert step.calls == [42]
    assert step.jobs == [QueueJob(job_id=1, provider_id=provider.provider_id)]


async def _pending_probe(
    db: Database, admin: Principal, provider: ProviderLimits
) -> tuple[int, int]:
    """A run of one probe on the provider: (run id, probe id)."""
    models = (await models_by_provider_ids(db, [provider.provider_id]))[provider.provider_id]
    run = await queue_probe_run(db, admin, models, 1)
    async with db.session() as session:
        probe_id = await session.scalar(select(Probe.id).where(Probe.run_id == run.id))
    assert probe_id is not None
    return run.id, probe_id


async def _probe_state(db: Database, probe_id: int) -> tuple[str, int]:
    async with db.session() as session:
        probe = await session.get(Probe, probe_id)
    assert probe is not None
    return probe.state, probe.attempts


async def test_a_full_minute_window_requeues_without_claiming(
    db: Database, admin: Principal, services: JobServices, provider: ProviderLimits
) -> None:
    _, probe_id = await _pending_probe(db, admin, provider)
    assert (await admit_call(services.gate_pool, provider.provider_id)).admitted  # 1 per minute
    handler = ProbeJobHandler(services, provider)  # the real step: admission comes with the claim
    with pytest.raises(RetryRequested) as retry:
        await handler(picked_job({"probe_id": probe_id}))
    assert timedelta(seconds=58) < retry.value.delay <= timedelta(seconds=60)
    assert await _probe_state(db, probe_id) == (ProbeState.PENDING, 0)


async def test_a_disabled_providers_probe_waits_for_the_next_refresh(
    db: Database, admin: Principal, services: JobServices, provider: ProviderLimits
) -> None:
    _, probe_id = await _pending_probe(db, admin, provider)
    await update_provider(db, admin, provider.provider_id, ProviderUpdate.parse(is_enabled=False))
    with pytest.raises(RetryRequested) as retry:
        await ProbeJobHandler(services, provider)(picked_job({"probe_id": probe_id}))
    assert retry.value.delay == timedelta(seconds=services.settings.limits_refresh_seconds)
    assert await _probe_state(db, probe_id) == (ProbeState.PENDING, 0)


async def test_a_rate_limited_probe_holds_its_provider(
    services: JobServices, provider: ProviderLimits
) -> None:
    outcome = StepOutcome("retry", provider.provider_id, delay_seconds=5, hold_provider=True)
    with pytest.raises(RetryRequested) as retry:
        await _handler(services, provider, RecordingStep(outcome))(picked_job({"probe_id": 1}))
    assert retry.value.delay == timedelta(seconds=5)
    assert await provider_held_until(services.gate_pool, provider.provider_id) is not None


async def test_a_transient_retry_holds_nothing(
    services: JobServices, provider: ProviderLimits
) -> None:
    outcome = StepOutcome("retry", provider.provider_id, delay_seconds=1.5)
    with pytest.raises(RetryRequested) as retry:
        await _handler(services, provider, RecordingStep(outcome))(picked_job({"probe_id": 1}))
    assert retry.value.delay == timedelta(seconds=1.5)
    assert await provider_held_until(services.gate_pool, provider.provider_id) is None


async def test_an_unreachable_database_means_retry_later(
    services: JobServices, provider: ProviderLimits
) -> None:
    step = RecordingStep(DatabaseUnavailableError("down"))
    with pytest.raises(RetryRequested) as retry:
        await _handler(services, provider, step)(picked_job({"probe_id": 1}, attempts=3))
    assert retry.value.delay == timedelta(seconds=database_retry_delay(3)) == timedelta(seconds=8)
    assert database_retry_delay(50) == 60


async def test_a_database_short_of_connections_means_retry_later(
    db: Database, admin: Principal, services: JobServices, provider: ProviderLimits
) -> None:
    await update_provider(
        db, admin, provider.provider_id, ProviderUpdate.parse(requests_per_minute=10)
    )
    crowded = DBAPIError("SELECT 1", None, TooManyConnectionsError("too many clients already"))
    with pytest.raises(RetryRequested):
        await _handler(services, provider, RecordingStep(crowded))(picked_job({"probe_id": 1}))


async def test_a_bug_in_the_step_retries_then_ends_the_probe_as_a_recorded_failure(
    db: Database, admin: Principal, services: JobServices, provider: ProviderLimits
) -> None:
    await update_provider(
        db, admin, provider.provider_id, ProviderUpdate.parse(requests_per_minute=10)
    )
    run_id, probe_id = await _pending_probe(db, admin, provider)
    bug = DBAPIError("INSERT", None, UniqueViolationError("duplicate key"))
    handler = _handler(services, provider, RecordingStep(bug))
    delays = []
    for attempt in range(MAX_INTERNAL_ERRORS - 1):
        with pytest.raises(RetryRequested) as retry:
            await handler(picked_job({"probe_id": probe_id}, attempts=attempt))
        delays.append(retry.value.delay.total_seconds())
    assert delays == [2.0, 4.0]
    await handler(picked_job({"probe_id": probe_id}, attempts=MAX_INTERNAL_ERRORS))  # no re-queue

    async with db.session() as session:
        probe = await session.get(Probe, probe_id)
    assert probe is not None
    assert (probe.state, probe.error_code, probe.retryable) == (
        ProbeState.FAILED,
        "PROVIDER_ERROR",
        True,
    )
    assert probe.error_message is not None and "DBAPIError" in probe.error_message
    finished = await get_run(db, run_id)
    assert (finished.status, finished.failed, finished.total) == (RunStatus.FAILED, 1, 1)


async def _handling_a_step_in_its_call(
    services: JobServices, provider: ProviderLimits
) -> asyncio.Task[None]:
    """A job handled in the background, its step started and waiting to be released."""
    step = RecordingStep()
    handling = asyncio.create_task(_handler(services, provider, step)(picked_job({"probe_id": 1})))
    await step.started.wait()
    return handling


async def test_a_released_step_goes_back_to_the_queue_at_once(
    services: JobServices, provider: ProviderLimits
) -> None:
    handling = await _handling_a_step_in_its_call(services, provider)
    assert services.in_flight.release_all() == 1
    with pytest.raises(RetryRequested) as retry:
        await handling
    assert retry.value.delay == timedelta(0)
    assert len(services.in_flight) == 0


async def test_cancelling_the_job_itself_is_not_a_release(
    services: JobServices, provider: ProviderLimits
) -> None:
    handling = await _handling_a_step_in_its_call(services, provider)
    handling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handling

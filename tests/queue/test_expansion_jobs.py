"""The `expand_scenarios` job under its provider's limits: admission, holds, backoff, bugs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from pgqueuer.domain.errors import RetryRequested
from queue_support import GENERATED_SCENARIOS, eventually, picked_job, provider_held_until

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ProviderUpdate, update_provider
from modeldesk.config import Settings
from modeldesk.db.job_queue import EXPANSION_ENTRYPOINT
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.enums import ExpansionStatus
from modeldesk.queue.admission import AdmissionReason, admit_call
from modeldesk.queue.holds import hold_provider
from modeldesk.queue.jobs import ExpansionJobHandler, JobServices
from modeldesk.runs import (
    ExpansionCall,
    StepOutcome,
    create_definition,
    get_definition,
    request_scenario_expansion,
    scenarios_by_definition_ids,
)
from modeldesk.runs.step_outcome import MAX_INTERNAL_ERRORS
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.probe_runs import simulated_model_id


@pytest.fixture
async def definition_id(db: Database, admin: Principal, infra_provider: LlmProvider) -> int:
    """A definition of two scenarios with an LLM expansion requested."""
    definition = await create_definition(
        db,
        admin,
        name="greetings",
        template="Say hello to {{who}}.",
        dimensions=[{"name": "who", "levels": ["a sailor", "a pilot"]}],
    )
    await request_scenario_expansion(db, admin, definition.id)
    return definition.id


async def _texts(db: Database, definition_id: int) -> list[str]:
    return [s.text for s in (await scenarios_by_definition_ids(db, [definition_id]))[definition_id]]


async def _expansion_status(db: Database, definition_id: int) -> str | None:
    return (await get_definition(db, definition_id)).expansion_status


def _rate_limit_every_call(sim: Simulator, provider: LlmProvider) -> None:
    sim.configure(
        simulated_model_id(provider.name), provider=provider.name, then=Outcome.rate_limit()
    )


def _job(definition_id: int, attempts: int = 0) -> Any:
    return picked_job({"definition_id": definition_id}, attempts, EXPANSION_ENTRYPOINT)


async def test_an_expansion_waits_while_its_provider_is_held_then_runs(
    db: Database,
    services: JobServices,
    infra_provider: LlmProvider,
    definition_id: int,
    sim: Simulator,
) -> None:
    await hold_provider(services.gate_pool, infra_provider.id, 0.4, reason="another call backs off")
    handler = ExpansionJobHandler(services)
    with pytest.raises(RetryRequested) as retry:
        await handler(_job(definition_id))
    assert timedelta(0) < retry.value.delay <= timedelta(seconds=0.4)
    assert sim.requests() == []
    assert await _expansion_status(db, definition_id) == ExpansionStatus.QUEUED

    async def released() -> bool:
        return await provider_held_until(services.gate_pool, infra_provider.id) is None

    await eventually(released, what="the end of the hold")
    await handler(_job(definition_id, attempts=1))
    assert await _expansion_status(db, definition_id) == ExpansionStatus.SUCCEEDED
    assert await _texts(db, definition_id) == GENERATED_SCENARIOS
    assert len(sim.requests()) == 1


async def test_an_expansion_waits_for_a_slot_in_the_minute_window_then_counts_in_it(
    db: Database,
    admin: Principal,
    services: JobServices,
    infra_provider: LlmProvider,
    definition_id: int,
    sim: Simulator,
) -> None:
    await update_provider(db, admin, infra_provider.id, ProviderUpdate.parse(requests_per_minute=1))
    pool: asyncpg.Pool = services.gate_pool
    # A probe takes this minute's one call.
    assert (await admit_call(pool, infra_provider.id)).admitted
    handler = ExpansionJobHandler(services)
    with pytest.raises(RetryRequested) as retry:
        await handler(_job(definition_id))
    assert timedelta(seconds=58) < retry.value.delay <= timedelta(seconds=60)
    assert sim.requests() == []

    # A minute passes: the probe's start leaves the window.
    await pool.execute(
        "UPDATE provider_request_starts SET started_at = started_at - interval '61 seconds'"
        " WHERE provider_id = $1",
        infra_provider.id,
    )
    await handler(_job(definition_id, attempts=1))
    assert await _expansion_status(db, definition_id) == ExpansionStatus.SUCCEEDED
    # The expansion's call took the new window's slot: the provider's next call waits.
    assert (await admit_call(pool, infra_provider.id)).reason is AdmissionReason.RATE_WINDOW


async def test_a_rate_limited_expansion_holds_its_provider_and_is_requeued(
    db: Database,
    services: JobServices,
    infra_provider: LlmProvider,
    definition_id: int,
    sim: Simulator,
) -> None:
    _rate_limit_every_call(sim, infra_provider)
    handler = ExpansionJobHandler(services)
    with pytest.raises(RetryRequested) as retry:
        await handler(_job(definition_id))
    first_step = services.settings.rate_limit_backoff[0]
    assert retry.value.delay == timedelta(seconds=first_step)
    held = await provider_held_until(services.gate_pool, infra_provider.id)
    assert held is not None
    definition = await get_definition(db, definition_id)
    assert (definition.expansion_status, definition.expansion_rate_limit_retries) == (
        ExpansionStatus.QUEUED,
        1,
    )

    # While it backs off, no call of the provider starts, this one's included.
    with pytest.raises(RetryRequested):
        await handler(_job(definition_id, attempts=1))
    assert len(sim.requests()) == 1


async def test_rate_limits_end_the_expansion_as_failed_after_the_schedule(
    db: Database,
    infra_provider: LlmProvider,
    definition_id: int,
    sim: Simulator,
    fast_settings: Settings,
    start_worker: Callable[[Settings], Any],
    gate_pool: asyncpg.Pool,
) -> None:
    before = await _texts(db, definition_id)
    _rate_limit_every_call(sim, infra_provider)
    start_worker(fast_settings)

    async def finished() -> bool:
        return await _expansion_status(db, definition_id) != ExpansionStatus.QUEUED

    await eventually(finished, what="the expansion's end")
    failed = await get_definition(db, definition_id)
    assert failed.expansion_status == ExpansionStatus.FAILED
    assert (failed.expansion_error or "").startswith("RATE_LIMITED: still rate limited after 2")
    assert await _texts(db, definition_id) == before
    schedule = fast_settings.rate_limit_backoff
    starts = [request.started_at for request in sim.requests()]
    assert len(starts) == len(schedule) + 1
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert all(gap >= step - 0.05 for gap, step in zip(gaps, schedule, strict=True))
    reason = await gate_pool.fetchval(
        "SELECT reason FROM provider_holds WHERE provider_id = $1", infra_provider.id
    )
    assert f"expansion of definition {definition_id}" in reason


class FailingStep:
    """Stands in for the expansion call with a bug that escapes it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(
        self, db: Database, settings: Settings, client: httpx.AsyncClient, call: ExpansionCall
    ) -> StepOutcome:
        self.calls += 1
        raise KeyError("choices")


async def test_a_bug_in_the_expansion_retries_then_ends_it_as_failed(
    db: Database,
    services: JobServices,
    definition_id: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = await _texts(db, definition_id)
    services.expansion_step = step = FailingStep()
    handler = ExpansionJobHandler(services)
    delays = []
    for attempt in range(MAX_INTERNAL_ERRORS - 1):
        with pytest.raises(RetryRequested) as retry:
            await handler(_job(definition_id, attempt))
        delays.append(retry.value.delay.total_seconds())
    assert delays == [2.0, 4.0]
    await handler(_job(definition_id, MAX_INTERNAL_ERRORS))  # no re-queue: it is finished

    assert step.calls == MAX_INTERNAL_ERRORS
    failed = await get_definition(db, definition_id)
    assert failed.expansion_status == ExpansionStatus.FAILED
    assert "internal error in the expansion step: KeyError" in (failed.expansion_error or "")
    assert await _texts(db, definition_id) == before
    assert f"expansion of definition {definition_id}" in caplog.text

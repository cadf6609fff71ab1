"""A capped run's judge calls and their reservations (SPEC 9.2, 9.5), step by step.

The invariant: once a run's judging is done (its analysis queued), no judge
call holds anything of its `reserved_cost`, which is never negative; and the
analysis is queued only then, never while a probe or a summary is in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from queue_support import (
    StartWorker,
    eventually,
    finished_analysis,
    run_analysis,
    simulator_count,
)
from sqlalchemy import select
from test_judging_totals import assert_judging_totals_exact

from modeldesk.auth.principal import Principal
from modeldesk.db.run_tables import Probe, Run
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.enums import InfraWorkStatus, RunStatus
from modeldesk.errors import ErrorCode
from modeldesk.queue.jobs import JobServices
from modeldesk.runs import cost_breakdown, execute_probe
from modeldesk.runs import summaries as summaries_module
from modeldesk.runs.call_gate import PAUSED_RECHECK_SECONDS
from modeldesk.runs.cancel import cancel_run
from modeldesk.runs.run_control import pause_run, resume_run
from modeldesk.runs.summaries import (
    SummaryCall,
    claim_summary,
    count_summary_internal_error,
    fail_waiting_summary,
    reserve_summary_call,
)
from modeldesk.runs.summary_step import execute_summary, handle_summary_internal_error
from modeldesk.testing import Simulator
from modeldesk.testing.judged_runs import (
    KEY_VARIABLE,
    add_judge_and_analyst,
    judged_run,
    run_summaries,
    verdict,
)
from modeldesk.testing.probe_runs import (
    add_simulated_provider,
    simulated_model_id,
    wait_for_run,
)

CAP_FOR_ONE_PROBE = "0.0015"  # a target call is expected at about 0.001: one fits
EXPECTED_JUDGE_CALL = Decimal("0.001")
TARGET_LATENCY = 1.5  # long enough for a second probe to stop the run meanwhile


@pytest.fixture
async def target(
    db: Database, admin: Principal, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> LlmModel:
    """A target model, with a judge and an analyst set as the infrastructure models."""
    monkeypatch.setenv(KEY_VARIABLE, "sk-simulated-key")
    await add_judge_and_analyst(db, admin, sim, judge_text=verdict(7, "Fine."))
    provider, model = await add_simulated_provider(db, admin, sim.url, "target", parallel=3)
    sim.configure(model.model_id, provider=provider.name, latency=0.01)
    return model


async def _probe_ids(db: Database, run_id: int) -> list[int]:
    async with db.session() as session:
        return list(
            await session.scalars(select(Probe.id).where(Probe.run_id == run_id).order_by(Probe.id))
        )


async def _run(db: Database, run_id: int) -> Run:
    async with db.session() as session:
        run = await session.get(Run, run_id)
    assert run is not None
    return run


async def test_a_capped_runs_judging_through_429s_and_malformed_answers_holds_nothing_after(
    db: Database,
    admin: Principal,
    sim: Simulator,
    target: LlmModel,
    start_worker: StartWorker,
) -> None:
    # Each attempt reserves and ends its own way: rate limited, malformed, answered.
    sim.configure(
        simulated_model_id("judge"),
        provider="judge",
        text=verdict(7, "Fine."),
        outcomes=["429", "malformed", "ok", "429", "ok", "malformed", "malformed"],
    )
    run = await judged_run(db, admin, target, scenarios=5, max_cost="1")
    start_worker()

    await wait_for_run(db, run.id)

    await finished_analysis(db, run.id, within=60)
    assert sim.stats()["providers"]["judge"]["requests"] > 5  # retried calls among them
    summaries = await run_summaries(db, run.id)
    assert len(summaries) == 5
    assert {s.status for s in summaries} <= {InfraWorkStatus.COMPLETED, InfraWorkStatus.FAILED}
    assert all(s.reserved_cost is None for s in summaries)
    stored = await _run(db, run.id)
    assert stored.reserved_cost == 0
    assert stored.spent_cost == (await cost_breakdown(db, run.id)).total_cost
    await assert_judging_totals_exact(db)


async def _first_summary_claimed(
    db: Database, admin: Principal, target: LlmModel, services: JobServices
) -> tuple[Run, SummaryCall]:
    """A capped two-probe run with one probe judged-to-be, its summary claimed (RUNNING)."""
    run = await judged_run(db, admin, target, scenarios=2, max_cost="1")
    first, _ = await _probe_ids(db, run.id)
    await execute_probe(db, services.settings, services.client, first)
    [summary] = await run_summaries(db, run.id)
    claimed = await claim_summary(db, summary.transcript_id)
    assert isinstance(claimed, SummaryCall)
    return run, claimed


async def _summary_held_mid_call(
    db: Database, admin: Principal, target: LlmModel, services: JobServices
) -> tuple[Run, SummaryCall]:
    """`_first_summary_claimed`, its judge call's expected cost reserved: a delivery that
    died mid-call."""
    run, claimed = await _first_summary_claimed(db, admin, target, services)
    assert await reserve_summary_call(db, claimed, EXPECTED_JUDGE_CALL) == "held"
    return run, claimed


async def test_no_analysis_while_a_probe_is_in_flight_in_a_run_stopped_at_its_cap(
    db: Database, admin: Principal, sim: Simulator, target: LlmModel, services: JobServices
) -> None:
    sim.configure(target.model_id, provider="target", latency=TARGET_LATENCY)
    run = await judged_run(db, admin, target, scenarios=4, max_cost=CAP_FOR_ONE_PROBE)
    first, second, *_ = await _probe_ids(db, run.id)
    settings, client = services.settings, services.client

    in_flight = asyncio.create_task(execute_probe(db, settings, client, first))
    # The first call reserved its cost and started: the second one cannot fit.
    await eventually(lambda: simulator_count(sim, "target", "current") == 1, what="the first call")
    await execute_probe(db, settings, client, second)  # does not fit: the run stops

    assert not in_flight.done()
    assert (await _run(db, run.id)).status == RunStatus.BUDGET_EXCEEDED
    assert await run_analysis(db, run.id) is None  # the first probe's answer is still to judge
    await in_flight
    [summary] = await run_summaries(db, run.id)
    assert await run_analysis(db, run.id) is None  # its summary waits

    judged = await execute_summary(db, settings, client, summary.transcript_id)

    assert judged.kind == "done"
    assert [s.status for s in await run_summaries(db, run.id)] == [InfraWorkStatus.COMPLETED]
    analysis = await run_analysis(db, run.id)
    assert analysis is not None  # queued by the last summary
    stored = await _run(db, run.id)
    assert stored.reserved_cost == 0 and stored.spent_cost <= Decimal(CAP_FOR_ONE_PROBE)


async def test_a_summary_the_probe_step_never_queued_is_queued_before_the_analysis(
    db: Database,
    admin: Principal,
    target: LlmModel,
    services: JobServices,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def died_before_queueing(db: Database, transcript_id: int, run_id: int) -> None:
        return None

    # The probe's step records the transcript, then dies before queueing its summary.
    monkeypatch.setattr(summaries_module, "queue_summary", died_before_queueing)
    run = await judged_run(db, admin, target, scenarios=1, max_cost=None)
    [probe] = await _probe_ids(db, run.id)

    await execute_probe(db, services.settings, services.client, probe)

    assert (await _run(db, run.id)).status == RunStatus.COMPLETED
    [summary] = await run_summaries(db, run.id)  # queued by the end-of-run check instead
    assert summary.status == InfraWorkStatus.PENDING
    assert await run_analysis(db, run.id) is None
    await execute_summary(db, services.settings, services.client, summary.transcript_id)
    assert [s.status for s in await run_summaries(db, run.id)] == [InfraWorkStatus.COMPLETED]
    assert await run_analysis(db, run.id) is not None


async def test_a_summary_ended_by_another_delivery_reserves_nothing(
    db: Database, admin: Principal, target: LlmModel, services: JobServices
) -> None:
    run, claimed = await _first_summary_claimed(db, admin, target, services)
    ended = await fail_waiting_summary(db, claimed.transcript_id, "PROVIDER_ERROR", "elsewhere")
    assert ended == run.id

    reservation = await reserve_summary_call(db, claimed, EXPECTED_JUDGE_CALL)

    assert reservation == "ended"
    assert (await _run(db, run.id)).reserved_cost == 0
    # Ending it again gives nothing back a second time.
    assert await fail_waiting_summary(db, claimed.transcript_id, "X", "again") is None
    assert await count_summary_internal_error(db, claimed.transcript_id) is None
    assert (await _run(db, run.id)).reserved_cost == 0


async def test_a_redelivered_summary_replaces_its_reservation_and_records_it_away(
    db: Database, admin: Principal, target: LlmModel, services: JobServices
) -> None:
    run, claimed = await _summary_held_mid_call(db, admin, target, services)
    # The job runs again and reserves again.
    again = await claim_summary(db, claimed.transcript_id)
    assert isinstance(again, SummaryCall)
    assert await reserve_summary_call(db, again, EXPECTED_JUDGE_CALL) == "held"
    assert (await _run(db, run.id)).reserved_cost == EXPECTED_JUDGE_CALL  # held once

    await execute_summary(db, services.settings, services.client, claimed.transcript_id)

    [summary] = await run_summaries(db, run.id)
    assert (summary.status, summary.reserved_cost) == (InfraWorkStatus.COMPLETED, None)
    stored = await _run(db, run.id)
    assert stored.reserved_cost == 0
    assert stored.spent_cost > summary.estimated_cost > 0  # the probe's and the judge's


async def test_a_summary_interrupted_mid_call_gives_its_hold_back_while_the_run_is_paused(
    db: Database, admin: Principal, target: LlmModel, services: JobServices
) -> None:
    run, claimed = await _summary_held_mid_call(db, admin, target, services)
    # The run is paused before the job runs again.
    await pause_run(db, admin, run.id)

    waiting = await execute_summary(db, services.settings, services.client, claimed.transcript_id)

    assert waiting.kind == "retry" and waiting.delay_seconds == PAUSED_RECHECK_SECONDS
    [summary] = await run_summaries(db, run.id)
    assert (summary.status, summary.reserved_cost) == (InfraWorkStatus.PENDING, None)
    assert (await _run(db, run.id)).reserved_cost == 0
    await resume_run(db, admin, run.id)
    done = await execute_summary(db, services.settings, services.client, claimed.transcript_id)
    assert done.kind == "done"
    assert [s.status for s in await run_summaries(db, run.id)] == [InfraWorkStatus.COMPLETED]
    assert (await _run(db, run.id)).reserved_cost == 0


async def _leave_no_room_under_the_cap(db: Database, admin: Principal, run_id: int) -> None:
    async with db.transaction() as session:
        stored = await session.get(Run, run_id)
        assert stored is not None
        stored.max_cost = stored.spent_cost


async def _cancel(db: Database, admin: Principal, run_id: int) -> None:
    await cancel_run(db, admin, run_id)


@pytest.mark.parametrize(
    ("meanwhile", "error_code"),
    [
        pytest.param(_leave_no_room_under_the_cap, ErrorCode.BUDGET_EXCEEDED, id="over-the-cap"),
        # The summary step records a cancelled run's summary with the run's status as its code.
        pytest.param(_cancel, RunStatus.CANCELLED, id="run-cancelled"),
    ],
)
async def test_a_summary_interrupted_mid_call_that_may_not_go_on_fails_and_gives_its_hold_back(
    db: Database,
    admin: Principal,
    target: LlmModel,
    services: JobServices,
    meanwhile: Callable[[Database, Principal, int], Awaitable[None]],
    error_code: str,
) -> None:
    run, claimed = await _summary_held_mid_call(db, admin, target, services)
    # Before the job runs again, the run is cancelled or its cap leaves no room.
    await meanwhile(db, admin, run.id)

    done = await execute_summary(db, services.settings, services.client, claimed.transcript_id)

    assert done.kind == "done"
    [summary] = await run_summaries(db, run.id)
    assert (summary.status, summary.error_code, summary.reserved_cost) == (
        InfraWorkStatus.FAILED,
        error_code,
        None,
    )
    assert (await _run(db, run.id)).reserved_cost == 0


async def test_a_bug_after_the_reservation_gives_the_hold_back(
    db: Database, admin: Principal, target: LlmModel, services: JobServices
) -> None:
    run, claimed = await _summary_held_mid_call(db, admin, target, services)

    retry = await handle_summary_internal_error(db, claimed.transcript_id, RuntimeError("bug"))

    assert retry.kind == "retry"
    [summary] = await run_summaries(db, run.id)
    assert (summary.status, summary.reserved_cost) == (InfraWorkStatus.PENDING, None)
    assert (await _run(db, run.id)).reserved_cost == 0

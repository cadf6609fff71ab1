"""Cost breakdowns from snapshots, estimates before a run, and cancelling."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from runs_support import Driver, make_definition, model_pk, probe_ids, queued_jobs
from sqlalchemy import select

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ModelUpdate, update_model
from modeldesk.config import Settings
from modeldesk.db.job_queue import probe_entrypoint
from modeldesk.db.run_tables import Probe, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.errors import ConflictError, ForbiddenError, ModelNotFoundError, NotFoundError
from modeldesk.llm import CostSnapshot
from modeldesk.runs import (
    FALLBACK_RULE,
    cancel_run,
    cost_breakdown,
    cost_breakdowns_by_run_ids,
    create_run,
    estimate_run_cost,
    get_run,
)
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.probe_runs import transcripts_by_run_ids

MODELS = ["openai/gpt-5-mini", "anthropic/claude-haiku-4-5"]


async def _finished_run(driver: Driver, admin: Principal, sim: Simulator) -> int:
    sim.configure("gpt-5-mini", input_tokens=1200, output_tokens=300)
    sim.configure("claude-haiku-4-5", outcomes=["ok", "401"], input_tokens=800, output_tokens=90)
    definition = await make_definition(driver.db, admin, scenarios=3)
    run = await create_run(driver.db, admin, definition.id, MODELS)
    await driver.run_all(run.id)
    return run.id


async def test_breakdown_equals_the_sum_of_snapshots(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    run_id = await _finished_run(driver, admin, sim)
    breakdown = await cost_breakdown(driver.db, run_id)
    transcripts = (await transcripts_by_run_ids(driver.db, [run_id]))[run_id]
    snapshots = [CostSnapshot.from_json(t.cost_snapshot) for t in transcripts if t.cost_snapshot]
    assert breakdown.total_cost == sum((s.cost for s in snapshots), Decimal(0))
    assert breakdown.total_cost > 0

    mini, haiku = breakdown.per_model
    assert mini.model_id == await model_pk(driver.db, "gpt-5-mini")
    assert (mini.input_tokens, mini.output_tokens, mini.probe_count) == (3600, 900, 3)
    assert mini.cost == Decimal(3600) * Decimal("0.25") / 10**6 + Decimal(900) * 2 / 10**6
    # One success and two recorded failures (the script's 401 then its default).
    assert (haiku.probe_count, haiku.failed_count, haiku.input_tokens) == (3, 1, 1600)
    assert breakdown.total.probe_count == 6
    assert breakdown.total.input_tokens == 5200
    assert breakdown.total.unpriced is False


async def test_a_price_change_after_a_run_leaves_its_costs_unchanged(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    run_id = await _finished_run(driver, admin, sim)
    before = await cost_breakdown(driver.db, run_id)
    await update_model(
        driver.db,
        admin,
        await model_pk(driver.db, "gpt-5-mini"),
        ModelUpdate.parse(cost_input_per_million="100", cost_output_per_million="200"),
    )
    assert await cost_breakdown(driver.db, run_id) == before


async def test_breakdowns_batch_many_runs_and_empty_runs(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    finished = await _finished_run(driver, admin, sim)
    definition = await make_definition(driver.db, admin, scenarios=1)
    fresh = await create_run(driver.db, admin, definition.id, MODELS)
    both = await cost_breakdowns_by_run_ids(driver.db, [finished, fresh.id, 999])
    assert both[finished].total.probe_count == 6
    assert both[fresh.id].total_cost == 0
    assert [m.probe_count for m in both[fresh.id].per_model] == [0, 0]
    assert both[999].per_model == [] and both[999].total_cost == 0
    assert await cost_breakdowns_by_run_ids(driver.db, []) == {}
    assert await transcripts_by_run_ids(driver.db, []) == {}


async def test_estimate_uses_history_or_the_stated_fallback(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    await _finished_run(driver, admin, sim)  # gpt-5-mini: 1200 in / 300 out per call
    definition = await make_definition(driver.db, admin, scenarios=4)
    estimate = await estimate_run_cost(
        driver.db,
        definition.id,
        ["openai/gpt-5-mini", "xai/grok-4-0709"],
        "50",
        settings=driver.settings,
    )
    mini, grok = estimate.per_model
    assert estimate.scenario_count == 2
    assert (mini.basis, mini.input_tokens, mini.output_tokens) == ("HISTORY", 2400, 600)
    assert "3 earlier transcripts" in mini.basis_detail
    assert mini.cost == Decimal(2400) * Decimal("0.25") / 10**6 + Decimal(600) * 2 / 10**6
    # "Answer briefly." (15) + "Say hello to person N." (22) = 37 chars -> 10 tokens each.
    assert (grok.basis, grok.input_tokens, grok.output_tokens) == ("FALLBACK", 20, 1000)
    assert grok.basis_detail == FALLBACK_RULE
    assert estimate.total_cost == mini.cost + grok.cost
    assert estimate.unpriced is False


async def test_estimate_flags_unpriced_models_and_refuses_bad_ones(
    catalog: Database, admin: Principal, settings: Settings
) -> None:
    definition = await make_definition(catalog, admin, scenarios=1)
    mini = await model_pk(catalog, "gpt-5-mini")
    async with catalog.transaction() as session:
        model = await session.get(LlmModel, mini)
        assert model is not None
        model.cost_output_per_million = None
    estimate = await estimate_run_cost(
        catalog, definition.id, ["openai/gpt-5-mini"], settings=settings
    )
    (line,) = estimate.per_model
    assert line.unpriced and estimate.unpriced
    assert line.output_price == Decimal(30) and line.cost > 0
    with pytest.raises(ModelNotFoundError):
        await estimate_run_cost(catalog, definition.id, ["openai/unknown"], settings=settings)
    with pytest.raises(NotFoundError):
        await estimate_run_cost(catalog, 999, None, settings=settings)


async def test_a_cancelled_run_starts_no_new_calls(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    definition = await make_definition(driver.db, admin, scenarios=3)
    run = await create_run(driver.db, admin, definition.id, ["openai/gpt-5-mini"])
    first, second, third = await probe_ids(driver.db, run.id)
    sim.configure("gpt-5-mini", outcomes=[Outcome.ok(), Outcome.rate_limit()])
    await driver.step(first)
    assert (await driver.step(second)).kind == "retry"  # waiting on a rate limit

    cancelled = await cancel_run(driver.db, admin, run.id)
    assert (cancelled.status, cancelled.cancelled_by) == (RunStatus.CANCELLED, "alice")
    # The cancelled probes' jobs are gone; the one left is the finished probe's, which
    # a real worker would have taken already (this test plays the worker by hand).
    assert await queued_jobs(driver.db, probe_entrypoint("openai")) == 1

    calls = len(sim.requests())
    assert (await driver.step(second)).kind == "done"
    assert (await driver.step(third)).kind == "done"
    assert len(sim.requests()) == calls
    async with driver.db.session() as session:
        states = list(
            await session.scalars(
                select(Probe.state).where(Probe.run_id == run.id).order_by(Probe.id)
            )
        )
    assert states == [ProbeState.SUCCEEDED, ProbeState.CANCELLED, ProbeState.CANCELLED]
    after = await get_run(driver.db, run.id)
    assert (after.status, after.completed, after.failed) == (RunStatus.CANCELLED, 1, 0)
    assert (await cancel_run(driver.db, admin, run.id)).status == RunStatus.CANCELLED  # idempotent


async def test_a_call_in_flight_during_cancel_is_not_retried(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    definition = await make_definition(driver.db, admin, scenarios=1)
    run = await create_run(driver.db, admin, definition.id, ["openai/gpt-5-mini"])
    (probe_id,) = await probe_ids(driver.db, run.id)
    sim.configure("gpt-5-mini", latency=0.3, outcomes=[Outcome.rate_limit()])
    in_flight = asyncio.create_task(driver.step(probe_id))
    for _ in range(200):
        if sim.requests():
            break
        await asyncio.sleep(0.01)
    assert sim.requests(), "the call never reached the provider"
    await cancel_run(driver.db, admin, run.id)
    assert (await in_flight).kind == "done"
    async with driver.db.session() as session:
        assert (
            await session.scalar(select(Probe.state).where(Probe.id == probe_id))
            == ProbeState.CANCELLED
        )


async def test_cancel_rules(driver: Driver, admin: Principal, viewer: Principal) -> None:
    definition = await make_definition(driver.db, admin, scenarios=1)
    run = await create_run(driver.db, admin, definition.id, ["openai/gpt-5-mini"])
    with pytest.raises(ForbiddenError):
        await cancel_run(driver.db, viewer, run.id)
    with pytest.raises(NotFoundError):
        await cancel_run(driver.db, admin, 999)
    await driver.run_all(run.id)
    with pytest.raises(ConflictError, match="already finished"):
        await cancel_run(driver.db, admin, run.id)
    async with driver.db.session() as session:
        assert await session.scalar(select(Transcript.status)) == TranscriptStatus.SUCCEEDED

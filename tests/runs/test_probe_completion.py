"""A run always finishes: concurrent last results, and bugs that escape the probe step."""

from __future__ import annotations

import asyncio

import pytest
from runs_support import Driver, make_definition, probe_ids
from sqlalchemy import func, select

from modeldesk.auth.principal import Principal
from modeldesk.catalog import get_provider_by_name
from modeldesk.db.run_tables import Probe, Transcript
from modeldesk.enums import ProbeState, RunStatus
from modeldesk.runs import create_run, execute_probe, get_run
from modeldesk.runs.probe_step import handle_internal_error
from modeldesk.runs.step_outcome import MAX_INTERNAL_ERRORS
from modeldesk.testing import Simulator


async def _run_of(driver: Driver, admin: Principal, scenarios: int) -> tuple[int, list[int]]:
    definition = await make_definition(driver.db, admin, scenarios=scenarios)
    run = await create_run(driver.db, admin, definition.id, ["openai/gpt-5-mini"])
    return run.id, await probe_ids(driver.db, run.id)


async def _all_at_once(driver: Driver, ids: list[int]) -> None:
    await asyncio.gather(
        *(execute_probe(driver.db, driver.settings, driver.client, probe_id) for probe_id in ids)
    )


async def test_results_arriving_together_finish_the_run_with_exact_progress(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    # Every pair's calls overlap, so their results (the last two of each run) race.
    sim.configure("gpt-5-mini", latency=0.05)
    pairs = [await _run_of(driver, admin, 2) for _ in range(5)]
    await _all_at_once(driver, [probe_id for _, ids in pairs for probe_id in ids])
    many_id, many = await _run_of(driver, admin, 30)
    await _all_at_once(driver, many)
    for run_id in [run_id for run_id, _ in pairs] + [many_id]:
        run = await get_run(driver.db, run_id)
        assert (run.status, run.completed + run.failed) == (RunStatus.COMPLETED, run.total)
        assert run.finished_at is not None


async def test_a_bug_in_the_step_is_retried_then_recorded_as_a_retryable_failure(
    driver: Driver, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("cost maths broke")

    monkeypatch.setattr("modeldesk.runs.probe_step.snapshot_cost", broken)
    run_id, (probe_id,) = await _run_of(driver, admin, 1)
    provider_id = (await get_provider_by_name(driver.db, "openai")).id
    kinds = []
    for _ in range(MAX_INTERNAL_ERRORS):
        with pytest.raises(ZeroDivisionError) as caught:
            await driver.step(probe_id)  # after the call: the probe is left RUNNING
        outcome = await handle_internal_error(driver.db, provider_id, probe_id, caught.value)
        kinds.append((outcome.kind, outcome.hold_provider))
    assert kinds == [("retry", False)] * (MAX_INTERNAL_ERRORS - 1) + [("done", False)]

    async with driver.db.session() as session:
        probe = await session.get(Probe, probe_id)
        transcripts = await session.scalar(select(func.count()).select_from(Transcript))
    assert probe is not None
    assert (probe.state, probe.error_code, probe.retryable) == (
        ProbeState.FAILED,
        "PROVIDER_ERROR",
        True,
    )
    assert probe.error_message is not None
    assert "ZeroDivisionError: cost maths broke" in probe.error_message
    assert (probe.attempts, probe.internal_errors, transcripts) == (3, 3, 1)
    run = await get_run(driver.db, run_id)
    assert (run.status, run.failed) == (RunStatus.FAILED, 1)

    # A late report for a probe that has finished changes nothing.
    late = await handle_internal_error(driver.db, provider_id, probe_id, RuntimeError("late"))
    assert late.kind == "done"
    assert (await get_run(driver.db, run_id)).failed == 1

"""A run's budget cap: calls reserve their expected cost; the first that does not fit stops it.

Step by step with the queue's part in-process; the cap across several worker
processes is in tests/queue/test_run_control_fleet.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from runs_support import Driver, make_definition, probe_ids
from sqlalchemy import select, text

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.run_tables import Probe, Run, Transcript
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.errors import ErrorCode, ValidationError
from modeldesk.llm import Usage, snapshot_cost
from modeldesk.runs import create_run, get_run, retry_failed_probes
from modeldesk.runs.budget import expected_call_cost
from modeldesk.runs.call_gate import gate_call
from modeldesk.runs.probe_records import ClaimedProbe, claim_probe, record_success
from modeldesk.testing import Simulator

MINI = "openai/gpt-5-mini"
# gpt-5-mini is seeded at $0.25 / $2.00 per million: 1000 tokens each way cost this.
CALL_COST = Decimal(1000) * Decimal("0.25") / 10**6 + Decimal(1000) * 2 / 10**6


async def _capped_run(driver: Driver, admin: Principal, scenarios: int, cap: object) -> int:
    definition = await make_definition(driver.db, admin, scenarios=scenarios)
    return (await create_run(driver.db, admin, definition.id, [MINI], max_cost=cap)).id


async def _history(driver: Driver, admin: Principal) -> None:
    """Two earlier transcripts of gpt-5-mini: the expected usage of its later calls."""
    definition = await make_definition(driver.db, admin, scenarios=2)
    run = await create_run(driver.db, admin, definition.id, [MINI])
    await driver.run_all(run.id)


async def _run_row(db: Database, run_id: int) -> Run:
    return await get_run(db, run_id)


async def _skipped_jobs_left(db: Database, run_id: int) -> int:
    """Queued jobs still holding a skipped probe of the run."""
    async with db.session() as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM pgqueuer q JOIN probes p"
                " ON q.payload = convert_to('{\"probe_id\":' || p.id || '}', 'UTF8')"
                " WHERE p.run_id = :run AND p.state = :skipped AND q.status = 'queued'"
            ),
            {"run": run_id, "skipped": ProbeState.SKIPPED},
        )
    return int(count or 0)


async def test_the_run_stops_at_the_first_call_that_could_pass_the_cap(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    sim.configure("gpt-5-mini", input_tokens=1000, output_tokens=1000)
    await _history(driver, admin)
    run_id = await _capped_run(driver, admin, 10, str(CALL_COST * 4))
    assert (await _run_row(db, run_id)).max_cost == CALL_COST * 4

    await driver.run_all(run_id)

    run = await _run_row(db, run_id)
    assert (run.status, run.completed, run.failed, run.skipped) == (
        RunStatus.BUDGET_EXCEEDED,
        4,
        0,
        6,
    )
    assert (run.spent_cost, run.reserved_cost) == (CALL_COST * 4, Decimal(0))
    assert run.finished_at is not None
    assert len(sim.requests("gpt-5-mini")) == 2 + 4  # the history, then four calls: no more
    async with db.session() as session:
        result = await session.execute(
            select(Transcript.status, Transcript.error_code, Transcript.estimated_cost)
            .where(Transcript.run_id == run_id)
            .order_by(Transcript.probe_id)
        )
        rows = [tuple(row) for row in result]
        reserved = await session.scalars(select(Probe.reserved_cost).where(Probe.run_id == run_id))
        assert set(reserved) == {None}
    assert rows[:4] == [(TranscriptStatus.SUCCEEDED, None, CALL_COST)] * 4
    assert rows[4:] == [(TranscriptStatus.SKIPPED, ErrorCode.BUDGET_EXCEEDED, Decimal(0))] * 6
    assert await _skipped_jobs_left(db, run_id) == 0


async def test_calls_in_flight_count_against_the_cap(
    driver: Driver, admin: Principal, sim: Simulator, settings: Settings
) -> None:
    """Two claimed calls hold their reservations; a third that would pass the cap stops the run."""
    db = driver.db
    sim.configure("gpt-5-mini", input_tokens=1000, output_tokens=1000)
    await _history(driver, admin)
    run_id = await _capped_run(driver, admin, 3, str(CALL_COST * 2))
    first, second, third = await probe_ids(db, run_id)

    claimed = []
    for probe_id in (first, second):
        claim = await claim_probe(db, settings, probe_id)
        assert isinstance(claim, ClaimedProbe)
        assert expected_call_cost(claim) == CALL_COST
        assert await gate_call(db, claim) is None  # may start
        claimed.append(claim)
    run = await _run_row(db, run_id)
    assert (run.spent_cost, run.reserved_cost, run.status) == (
        Decimal(0),
        CALL_COST * 2,
        RunStatus.RUNNING,
    )

    outcome = await driver.step(third)  # nothing spent yet, but two calls in flight
    assert outcome.kind == "done"
    run = await _run_row(db, run_id)
    assert (run.status, run.skipped, run.reserved_cost) == (
        RunStatus.BUDGET_EXCEEDED,
        1,
        CALL_COST * 2,
    )
    assert len(sim.requests("gpt-5-mini")) == 2  # the history only

    # The two calls in flight finish: their reservations become their real costs.
    for claim in claimed:
        usage = Usage(input_tokens=1000, output_tokens=1000)
        snapshot = snapshot_cost(usage, claim.prices, fallback=claim.fallback_prices)
        assert await record_success(db, claim, response="hi", snapshot=snapshot, duration_ms=1)
    run = await _run_row(db, run_id)
    assert (run.completed, run.spent_cost, run.reserved_cost) == (2, CALL_COST * 2, Decimal(0))
    assert run.status == RunStatus.BUDGET_EXCEEDED


async def test_without_history_a_call_reserves_by_the_estimate_fallback_rule(
    driver: Driver, admin: Principal, sim: Simulator, settings: Settings
) -> None:
    db = driver.db
    sim.configure("gpt-5-mini", input_tokens=10, output_tokens=10)
    run_id = await _capped_run(driver, admin, 1, "1")
    (probe_id,) = await probe_ids(db, run_id)
    claim = await claim_probe(db, settings, probe_id)
    assert isinstance(claim, ClaimedProbe)
    assert claim.expected_input_tokens is None  # no earlier transcript of the model
    # "Answer briefly." + "Say hello to person 0." = 37 characters: ceil(37 / 4) input
    # tokens and 500 output tokens, at the model's prices.
    fallback = Decimal(10) * Decimal("0.25") / 10**6 + Decimal(500) * 2 / 10**6
    assert expected_call_cost(claim) == fallback
    assert await gate_call(db, claim) is None
    assert (await _run_row(db, run_id)).reserved_cost == fallback

    await driver.step(probe_id)
    run = await _run_row(db, run_id)
    actual = Decimal(10) * Decimal("0.25") / 10**6 + Decimal(10) * 2 / 10**6
    assert (run.status, run.spent_cost, run.reserved_cost) == (
        RunStatus.COMPLETED,
        actual,
        Decimal(0),
    )


async def test_a_zero_cap_calls_nothing(driver: Driver, admin: Principal, sim: Simulator) -> None:
    run_id = await _capped_run(driver, admin, 2, "0")
    await driver.run_all(run_id)
    run = await _run_row(driver.db, run_id)
    assert (run.status, run.skipped, run.completed) == (RunStatus.BUDGET_EXCEEDED, 2, 0)
    assert sim.requests() == []
    # Nothing failed, so there is nothing to retry; the run stays stopped.
    assert (await retry_failed_probes(driver.db, admin, run_id)).status == RunStatus.BUDGET_EXCEEDED


@pytest.mark.parametrize("cap", ["-1", "abc", "NaN", "1e400"])
async def test_a_bad_cap_is_refused_naming_max_cost(
    driver: Driver, admin: Principal, cap: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        await _capped_run(driver, admin, 1, cap)
    assert refused.value.field == "maxCost"

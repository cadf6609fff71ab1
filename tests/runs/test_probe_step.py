"""The probe step: transcripts and costs, idempotence, backoff, failures and progress."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from runs_support import BACKOFF, Driver, make_definition, model_pk, probe_ids
from sqlalchemy import func, select, update

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ModelCreate, create_model, get_provider_by_name
from modeldesk.config import Settings
from modeldesk.db.run_tables import Probe, Run, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModelPriceVersion, LlmProvider
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.errors import DatabaseUnavailableError, NotFoundError
from modeldesk.llm import CostSnapshot
from modeldesk.runs import StepOutcome, create_run, execute_probe, get_run, run_progress
from modeldesk.testing import Outcome, Simulator


async def _one_probe_run(db: Database, admin: Principal, model: str = "openai/gpt-5-mini") -> int:
    definition = await make_definition(db, admin, scenarios=1)
    run = await create_run(db, admin, definition.id, [model])
    (probe_id,) = await probe_ids(db, run.id)
    return probe_id


async def _probe(db: Database, probe_id: int) -> Probe:
    async with db.session() as session:
        probe = await session.get(Probe, probe_id)
    assert probe is not None
    return probe


async def _transcripts(db: Database) -> list[Transcript]:
    async with db.session() as session:
        return list(await session.scalars(select(Transcript).order_by(Transcript.id)))


async def _run_of(db: Database, probe_id: int) -> Run:
    return await get_run(db, (await _probe(db, probe_id)).run_id)


async def test_success_writes_one_transcript_with_exact_cost_and_snapshot(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    sim.configure(
        "gpt-5-mini",
        text="Hello!",
        input_tokens=1000,
        output_tokens=500,
        cached_tokens=200,
        reasoning_tokens=100,
    )
    probe_id = await _one_probe_run(db, admin)
    outcome = await driver.step(probe_id)
    assert outcome == StepOutcome("done", (await get_provider_by_name(db, "openai")).id)

    (transcript,) = await _transcripts(db)
    # 1000 x 0.25 / 1e6 + 500 x 2.00 / 1e6; cached and reasoning tokens are parts, not extras.
    assert transcript.estimated_cost == Decimal("0.00125")
    assert transcript.status == TranscriptStatus.SUCCEEDED
    assert transcript.response == "Hello!"
    assert (transcript.input_tokens, transcript.output_tokens) == (1000, 500)
    assert (transcript.cached_input_tokens, transcript.reasoning_tokens) == (200, 100)
    assert transcript.unpriced is False
    assert transcript.duration_ms is not None
    assert transcript.cost_snapshot is not None
    snapshot = CostSnapshot.from_json(transcript.cost_snapshot)
    assert snapshot.cost == Decimal("0.00125")
    assert (snapshot.input_price, snapshot.output_price) == (Decimal("0.25"), Decimal("2.00"))
    async with db.session() as session:
        version = await session.scalar(
            select(LlmModelPriceVersion.id).where(
                LlmModelPriceVersion.model_id == transcript.model_id,
                LlmModelPriceVersion.effective_until.is_(None),
            )
        )
    assert snapshot.price_version_id == version
    request = sim.requests("gpt-5-mini")[0]
    assert request.body["messages"][0] == {"role": "system", "content": "Answer briefly."}

    probe = await _probe(db, probe_id)
    assert (probe.state, probe.attempts) == (ProbeState.SUCCEEDED, 1)
    run = await _run_of(db, probe_id)
    assert (run.status, run_progress(run).completed) == (RunStatus.COMPLETED, 1)
    assert run.started_at is not None and run.finished_at is not None


async def test_a_second_execution_writes_nothing_more(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    probe_id = await _one_probe_run(db, admin)
    await driver.step(probe_id)
    assert (await driver.step(probe_id)).kind == "done"  # re-delivery of a finished probe
    assert len(sim.requests()) == 1

    # A worker killed after the call but before its acknowledgement: the probe looks RUNNING.
    async with db.transaction() as session:
        await session.execute(update(Probe).values(state=ProbeState.RUNNING))
    assert (await driver.step(probe_id)).kind == "done"
    assert len(await _transcripts(db)) == 1
    assert run_progress(await _run_of(db, probe_id)).completed == 1


async def test_rate_limits_climb_the_schedule_then_give_up_retryable(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    sim.configure("gpt-5-mini", outcomes=["429"] * 5)
    probe_id = await _one_probe_run(db, admin)

    first = await driver.step(probe_id)
    assert (first.kind, first.delay_seconds, first.hold_provider) == ("retry", BACKOFF[0], True)
    probe = await _probe(db, probe_id)
    assert (probe.state, probe.rate_limit_retries, probe.error_code) == (
        ProbeState.PENDING,
        1,
        "RATE_LIMITED",
    )
    assert (await _run_of(db, probe_id)).status == RunStatus.RUNNING

    final = await driver.until_done(probe_id)
    assert [o.delay_seconds for o in driver.outcomes[:-1]] == list(BACKOFF)
    assert all(o.hold_provider for o in driver.outcomes[:-1])
    assert final.kind == "done"
    assert len(sim.requests()) == len(BACKOFF) + 1

    probe = await _probe(db, probe_id)
    assert (probe.state, probe.error_code, probe.retryable) == (
        ProbeState.FAILED,
        "RATE_LIMITED",
        True,
    )
    assert probe.rate_limit_retries == len(BACKOFF)
    (transcript,) = await _transcripts(db)
    assert (transcript.status, transcript.error_code) == (TranscriptStatus.FAILED, "RATE_LIMITED")
    run = await _run_of(db, probe_id)
    assert (run.status, run.failed, run.completed) == (RunStatus.FAILED, 1, 0)


async def test_a_longer_retry_after_wins_and_the_counter_never_resets(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    sim.configure(
        "gpt-5-mini",
        outcomes=[Outcome.rate_limit(retry_after=7), "503", "429", "ok"],
    )
    probe_id = await _one_probe_run(driver.db, admin)
    await driver.until_done(probe_id)
    delays = [(o.delay_seconds, o.hold_provider) for o in driver.outcomes[:-1]]
    assert delays[0] == (7.0, True)
    assert delays[1][1] is False and delays[1][0] <= 1.0  # a transient retry, not a hold
    assert delays[2] == (BACKOFF[1], True)  # the second rate limit: step two, not step one
    probe = await _probe(driver.db, probe_id)
    assert (probe.rate_limit_retries, probe.transient_retries) == (2, 1)
    assert (probe.state, probe.attempts) == (ProbeState.SUCCEEDED, 4)


async def test_server_errors_retry_a_bounded_number_of_times(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    sim.configure("gpt-5-mini", then=Outcome.error(503))
    probe_id = await _one_probe_run(driver.db, admin)
    await driver.until_done(probe_id)
    retries = driver.outcomes[:-1]
    assert len(retries) == 3
    assert not any(o.hold_provider for o in retries)
    probe = await _probe(driver.db, probe_id)
    assert (probe.state, probe.error_code, probe.retryable) == (
        ProbeState.FAILED,
        "PROVIDER_ERROR",
        True,
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, "AUTH_FAILED"),
        (403, "AUTH_FAILED"),
        (404, "MODEL_NOT_FOUND"),
        (400, "VALIDATION_ERROR"),
    ],
)
async def test_client_errors_fail_at_once(
    driver: Driver, admin: Principal, sim: Simulator, status: int, code: str
) -> None:
    sim.configure("gpt-5-mini", then=Outcome.error(status))
    probe_id = await _one_probe_run(driver.db, admin)
    assert (await driver.step(probe_id)).kind == "done"
    assert len(sim.requests()) == 1
    probe = await _probe(driver.db, probe_id)
    assert (probe.state, probe.error_code, probe.retryable) == (ProbeState.FAILED, code, False)
    assert probe.error_message and str(status) in probe.error_message


async def test_failures_count_in_progress_and_the_run_completes(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    sim.configure("claude-haiku-4-5", then=Outcome.error(401))
    definition = await make_definition(driver.db, admin, scenarios=2)
    run = await create_run(
        driver.db, admin, definition.id, ["openai/gpt-5-mini", "anthropic/claude-haiku-4-5"]
    )
    await driver.run_all(run.id)
    finished = await get_run(driver.db, run.id)
    assert (finished.status, finished.completed, finished.failed, finished.total) == (
        RunStatus.COMPLETED,
        2,
        2,
        4,
    )


async def test_a_missing_key_fails_without_a_call(
    driver: Driver, admin: Principal, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe_id = await _one_probe_run(driver.db, admin)
    monkeypatch.delenv("OPENAI_API_KEY")
    await driver.step(probe_id)
    assert sim.requests() == []
    assert (await _probe(driver.db, probe_id)).error_code == "AUTH_FAILED"


async def test_an_unpriced_model_is_charged_fallback_prices_and_flagged(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    openai = await get_provider_by_name(db, "openai")
    await create_model(
        db,
        admin,
        ModelCreate.parse(
            provider_id=openai.id,
            model_id="mystery",
            display_name="Mystery",
            cost_input_per_million=None,
            cost_output_per_million=None,
        ),
    )
    async with db.transaction() as session:
        await session.execute(
            update(LlmProvider).where(LlmProvider.id == openai.id).values(default_input_price=1)
        )
    sim.configure("mystery", input_tokens=1_000_000, output_tokens=1_000_000)
    await driver.step(await _one_probe_run(db, admin, "openai/mystery"))
    (transcript,) = await _transcripts(db)
    assert transcript.unpriced is True
    # The provider's default input price (1) and the configured fallback output price (30).
    assert transcript.estimated_cost == Decimal(1) + Settings().fallback_output_price
    assert transcript.cost_snapshot is not None
    assert transcript.cost_snapshot["unpriced"] is True


async def test_unexpected_errors_are_recorded_so_the_run_finishes(
    driver: Driver, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("modeldesk.runs.probe_step.complete", broken)
    probe_id = await _one_probe_run(driver.db, admin)
    await driver.step(probe_id)
    probe = await _probe(driver.db, probe_id)
    assert (probe.state, probe.error_code, probe.retryable) == (
        ProbeState.FAILED,
        "PROVIDER_ERROR",
        False,
    )
    assert (await _run_of(driver.db, probe_id)).status == RunStatus.FAILED


async def test_unknown_probe_and_unreachable_database(
    catalog: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    with pytest.raises(NotFoundError):
        await execute_probe(catalog, settings, client, 12345)
    unreachable = Database("postgresql://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(DatabaseUnavailableError) as caught:
            await execute_probe(unreachable, settings, client, 1)
    finally:
        await unreachable.dispose()
    assert caught.value.retryable is True


async def test_concurrent_deliveries_record_once(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    sim.configure("gpt-5-mini", latency=0.2)
    probe_id = await _one_probe_run(driver.db, admin)
    async with driver.db.transaction() as session:
        await session.execute(update(Probe).values(state=ProbeState.RUNNING))
    # Two claims cannot both see PENDING, but a redelivered RUNNING probe can be run twice.
    await asyncio.gather(driver.step(probe_id), driver.step(probe_id))
    async with driver.db.session() as session:
        count = await session.scalar(select(func.count()).select_from(Transcript))
    assert count == 1
    assert (await _run_of(driver.db, probe_id)).completed == 1
    assert await model_pk(driver.db, "gpt-5-mini") == (await _transcripts(driver.db))[0].model_id

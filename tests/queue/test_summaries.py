"""Judged summaries and the run's analysis, with a real worker and the simulator as
the target models, the judge and the analyst (SPEC 9.5)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pgqueuer.domain.errors import RetryRequested
from queue_support import (
    StartWorker,
    eventually,
    finished_analysis,
    picked_job,
    provider_held_until,
)
from sqlalchemy import select, text

from modeldesk.auth.principal import Principal
from modeldesk.catalog import infra_setting_key, update_setting
from modeldesk.db.job_queue import enqueue_jobs, probe_entrypoint
from modeldesk.db.run_tables import Probe, Run, Transcript
from modeldesk.db.session import Database
from modeldesk.db.summary_tables import RunAnalysis, TranscriptSummary
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import InfraWorkStatus, RunStatus, TranscriptStatus
from modeldesk.errors import ErrorCode, ForbiddenError
from modeldesk.queue.jobs import JobServices
from modeldesk.queue.limits import ProviderLimits
from modeldesk.queue.summary_jobs import ProviderJobs
from modeldesk.runs import cost_breakdown, create_definition, execute_probe
from modeldesk.runs.call_gate import PAUSED_RECHECK_SECONDS
from modeldesk.runs.run_control import pause_run, resume_run
from modeldesk.runs.step_outcome import MAX_INTERNAL_ERRORS
from modeldesk.runs.summary_queue import SUMMARY_PAYLOAD_KEY
from modeldesk.runs.summary_step import execute_summary, handle_summary_internal_error
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.judged_runs import judged_run, run_summaries
from modeldesk.testing.probe_runs import add_simulated_provider, wait_for_run

JUDGE_ANSWER = {"score": 7, "summary": "A clear and correct answer."}
REPORT = "The target model scored 7 on every answer; the interval is a single point."
SCENARIOS = 6
# The `models` fixture: each role's (provider, model).
Models = dict[str, tuple[LlmProvider, LlmModel]]


async def _simulated(
    db: Database, admin: Principal, sim: Simulator, name: str, *, parallel: int, text: str | None
) -> tuple[LlmProvider, LlmModel]:
    provider, model = await add_simulated_provider(
        db, admin, sim.url, name, parallel=parallel, api_key_env="SIMULATOR_API_KEY"
    )
    sim.configure(model.model_id, provider=provider.name, text=text, latency=0.05)
    return provider, model


@pytest.fixture
async def models(
    db: Database, admin: Principal, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> Models:
    """A target model (3 in parallel), the judge (1 in parallel) and the analyst."""
    monkeypatch.setenv("SIMULATOR_API_KEY", "sk-simulated-key")
    found = {
        "target": await _simulated(db, admin, sim, "target", parallel=3, text=None),
        "judge": await _simulated(
            db, admin, sim, "judge", parallel=1, text=json.dumps(JUDGE_ANSWER)
        ),
        "analyst": await _simulated(db, admin, sim, "analyst", parallel=1, text=REPORT),
    }
    for purpose, role in (("summarization", "judge"), ("analysis", "analyst")):
        provider, model = found[role]
        await update_setting(
            db,
            admin,
            infra_setting_key(purpose),
            {"providerName": provider.name, "modelId": model.model_id},
        )
    return found


async def _one_probe_judged(
    db: Database, admin: Principal, target: LlmModel, services: JobServices
) -> tuple[Run, TranscriptSummary]:
    """A judged run with one probe done, and that probe's summary waiting."""
    run = await judged_run(db, admin, target, scenarios=SCENARIOS)
    async with db.session() as session:
        probe_id = await session.scalar(select(Probe.id).where(Probe.run_id == run.id).limit(1))
    assert probe_id is not None
    await execute_probe(db, services.settings, services.client, probe_id)
    [summary] = await run_summaries(db, run.id)
    return run, summary


JudgedByAWorker = Callable[..., Awaitable[tuple[Run, RunAnalysis]]]


@pytest.fixture
def judged_by_a_worker(
    db: Database,
    admin: Principal,
    models: Models,
    start_worker: StartWorker,
) -> JudgedByAWorker:
    """A judged run on the target model, served by a worker through to its analysis:
    (the finished run, its analysis)."""

    async def judge(max_cost: str | None = None) -> tuple[Run, RunAnalysis]:
        target = models["target"][1]
        run = await judged_run(db, admin, target, scenarios=SCENARIOS, max_cost=max_cost)
        start_worker()
        finished = await wait_for_run(db, run.id)
        return finished, await finished_analysis(db, run.id, within=30)

    return judge


async def test_each_answer_is_judged_within_the_judges_limit_and_costed_and_analysed(
    db: Database, sim: Simulator, models: Models, judged_by_a_worker: JudgedByAWorker
) -> None:
    target_provider, target = models["target"]

    finished, analysis = await judged_by_a_worker()

    assert finished.summarize  # the definition has a rubric
    summaries = await run_summaries(db, finished.id)
    assert finished.status == RunStatus.COMPLETED and len(summaries) == SCENARIOS
    assert {(s.status, s.score, s.summary) for s in summaries} == {
        (InfraWorkStatus.COMPLETED, Decimal(7), JUDGE_ANSWER["summary"])
    }
    judge_stats = sim.stats()["providers"]["judge"]
    assert judge_stats["requests"] == SCENARIOS
    assert judge_stats["max_concurrent"] == 1  # its max_parallel_requests, beside the targets
    assert sim.stats()["providers"][target_provider.name]["max_concurrent"] <= 3
    judge_prompt = sim.requests(models["judge"][1].model_id)[0].body["messages"][-1]["content"]
    assert "Score 0-10 for correctness." in judge_prompt and "Question number" in judge_prompt

    breakdown = await cost_breakdown(db, finished.id)
    infrastructure = sum((s.estimated_cost for s in summaries), Decimal(0))
    assert infrastructure > 0 and all(s.cost_snapshot for s in summaries)
    assert breakdown.infrastructure_cost == infrastructure
    assert breakdown.total_cost == breakdown.total.cost + infrastructure
    async with db.session() as session:
        spent = (await session.get(Run, finished.id)).spent_cost  # type: ignore[union-attr]
    assert spent == breakdown.total_cost

    assert analysis.status == InfraWorkStatus.COMPLETED and analysis.report == REPORT
    assert analysis.per_model == [
        {
            "model_id": target.id,
            "scored_count": SCENARIOS,
            "mean_score": 7.0,
            "ci_low": 7.0,
            "ci_high": 7.0,
        }
    ]


async def test_a_malformed_judgement_is_asked_again_once_then_recorded_failed(
    db: Database, sim: Simulator, models: Models, judged_by_a_worker: JudgedByAWorker
) -> None:
    judge_provider, judge = models["judge"]
    sim.configure(judge.model_id, provider=judge_provider.name, text="I think it is fine: 7/10")

    run, analysis = await judged_by_a_worker()

    summaries = await run_summaries(db, run.id)
    assert [(s.status, s.error_code, s.malformed_answers) for s in summaries] == [
        (InfraWorkStatus.FAILED, "PROVIDER_ERROR", 2)
    ] * SCENARIOS
    assert all("JSON" in (s.error_message or "") for s in summaries)
    assert sim.stats()["providers"]["judge"]["requests"] == 2 * SCENARIOS
    async with db.session() as session:
        statuses = set(
            await session.scalars(select(Transcript.status).where(Transcript.run_id == run.id))
        )
    assert statuses == {TranscriptStatus.SUCCEEDED}  # the probes stay succeeded
    # Both answers were charged for.
    assert all(s.input_tokens > 0 and s.estimated_cost > 0 for s in summaries)
    assert analysis.per_model[0]["scored_count"] == 0


async def test_a_capped_runs_judging_stays_under_its_cap(
    db: Database, judged_by_a_worker: JudgedByAWorker
) -> None:
    cap = Decimal("0.0015")  # a call is expected at about 0.001: few fit

    run, analysis = await judged_by_a_worker(max_cost=str(cap))

    # The analysis comes after the last judge call: nothing is in flight any more.
    breakdown = await cost_breakdown(db, run.id)
    async with db.session() as session:
        stored = await session.get(Run, run.id)
    assert stored is not None
    assert stored.spent_cost == breakdown.total_cost <= cap
    assert stored.reserved_cost == 0
    summaries = await run_summaries(db, run.id)
    assert breakdown.infrastructure_cost > 0  # some judging fitted, inside the total
    assert {s.status for s in summaries} <= {InfraWorkStatus.COMPLETED, InfraWorkStatus.FAILED}
    assert all(
        s.error_code == ErrorCode.BUDGET_EXCEEDED
        for s in summaries
        if s.status == InfraWorkStatus.FAILED
    )
    assert all(s.reserved_cost is None for s in summaries)
    scored = sum(1 for s in summaries if s.status == InfraWorkStatus.COMPLETED)
    assert analysis.per_model[0]["scored_count"] == scored > 0


async def test_a_viewer_cannot_create_a_definition_with_a_rubric(
    db: Database, viewer: Principal
) -> None:
    with pytest.raises(ForbiddenError):
        await create_definition(db, viewer, name="x", template="Say hi.", rubric="Be kind.")


async def test_a_rate_limited_judge_holds_its_provider_and_is_asked_again(
    db: Database, admin: Principal, sim: Simulator, models: Models, services: JobServices
) -> None:
    judge_provider, judge = models["judge"]
    run, summary = await _one_probe_judged(db, admin, models["target"][1], services)
    sim.configure(
        judge.model_id,
        provider=judge_provider.name,
        text=json.dumps(JUDGE_ANSWER),
        outcomes=[Outcome.rate_limit(retry_after=0.2)],
    )
    limits = ProviderLimits(judge_provider.id, judge_provider.name, 1, True)
    handler = ProviderJobs(services, limits)
    job = picked_job({SUMMARY_PAYLOAD_KEY: summary.transcript_id}, 0, limits.entrypoint)

    with pytest.raises(RetryRequested):
        await handler(job)
    assert await provider_held_until(services.gate_pool, judge_provider.id) is not None
    [waiting] = await run_summaries(db, run.id)
    assert (waiting.status, waiting.rate_limit_retries, waiting.error_code) == (
        InfraWorkStatus.PENDING,
        1,
        "RATE_LIMITED",
    )

    async def hold_over() -> bool:
        until = await provider_held_until(services.gate_pool, judge_provider.id)
        return until is None or until <= datetime.now(UTC)

    await eventually(hold_over, within=10, what="the end of the judge provider's hold")
    await handler(job)
    [judged] = await run_summaries(db, run.id)
    assert (judged.status, judged.score, judged.error_code) == (
        InfraWorkStatus.COMPLETED,
        Decimal(7),
        None,
    )


async def test_a_paused_runs_judging_waits_for_the_resume(
    db: Database, admin: Principal, models: Models, services: JobServices
) -> None:
    run, summary = await _one_probe_judged(db, admin, models["target"][1], services)
    await pause_run(db, admin, run.id)

    waiting = await execute_summary(db, services.settings, services.client, summary.transcript_id)

    assert waiting.kind == "retry" and waiting.delay_seconds == PAUSED_RECHECK_SECONDS
    [still] = await run_summaries(db, run.id)
    assert still.status == InfraWorkStatus.PENDING and still.input_tokens == 0  # no call was made
    async with db.transaction() as session:  # the job as the queue holds it, due later
        await enqueue_jobs(
            session,
            probe_entrypoint(models["judge"][0].name),
            [{SUMMARY_PAYLOAD_KEY: summary.transcript_id}],
            delay_seconds=PAUSED_RECHECK_SECONDS,
        )
    await resume_run(db, admin, run.id)
    async with db.session() as session:
        due = await session.scalar(
            text("SELECT execute_after <= now() FROM pgqueuer WHERE entrypoint = :e"),
            {"e": probe_entrypoint(models["judge"][0].name)},
        )
    assert due is True  # the resume made it due at once
    done = await execute_summary(db, services.settings, services.client, summary.transcript_id)
    assert done.kind == "done"
    assert [s.status for s in await run_summaries(db, run.id)] == [InfraWorkStatus.COMPLETED]


async def test_a_bug_in_the_summary_step_ends_in_a_failed_summary_not_a_stuck_run(
    db: Database, admin: Principal, models: Models, services: JobServices
) -> None:
    run, summary = await _one_probe_judged(db, admin, models["target"][1], services)
    bug = RuntimeError("a passing bug")

    outcomes = [
        await handle_summary_internal_error(db, summary.transcript_id, bug)
        for _ in range(MAX_INTERNAL_ERRORS)
    ]

    assert [outcome.kind for outcome in outcomes] == ["retry"] * (MAX_INTERNAL_ERRORS - 1) + [
        "done"
    ]
    [failed] = await run_summaries(db, run.id)
    assert (failed.status, failed.error_code, failed.internal_errors) == (
        InfraWorkStatus.FAILED,
        "PROVIDER_ERROR",
        MAX_INTERNAL_ERRORS,
    )
    assert "a passing bug" in (failed.error_message or "")
    again = await handle_summary_internal_error(db, summary.transcript_id, bug)
    assert again.kind == "done"  # finished: counted no more

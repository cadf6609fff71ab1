"""Running totals per (run, model) and per model (SPEC 9.7) equal a recount of the transcripts."""

from __future__ import annotations

import random
from decimal import Decimal

from runs_support import Driver, make_definition
from sqlalchemy import text

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import TranscriptStatus
from modeldesk.runs import cost_breakdown, create_run, estimate_run_cost, retry_failed_probes
from modeldesk.testing import Simulator

MODELS = {"openai/gpt-5-mini": "gpt-5-mini", "anthropic/claude-haiku-4-5": "claude-haiku-4-5"}

_RECOUNT_PER_RUN = """
SELECT run_id, model_id,
    count(*) FILTER (WHERE status = :succeeded), count(*) FILTER (WHERE status = :failed),
    count(*) FILTER (WHERE status = :skipped), sum(input_tokens), sum(output_tokens),
    sum(estimated_cost), count(*) FILTER (WHERE unpriced)
FROM transcripts GROUP BY run_id, model_id ORDER BY run_id, model_id
"""
_TOTALS_PER_RUN = """
SELECT run_id, model_id, succeeded, failed, skipped, input_tokens, output_tokens, cost, unpriced
FROM run_model_totals
WHERE succeeded + failed + skipped > 0 ORDER BY run_id, model_id
"""
_RECOUNT_PER_MODEL = """
SELECT model_id, count(*), sum(input_tokens), sum(output_tokens), sum(cached_input_tokens),
    sum(cache_write_tokens)
FROM transcripts WHERE status = :succeeded GROUP BY model_id ORDER BY model_id
"""
_TOTALS_PER_MODEL = """
SELECT model_id, succeeded, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens
FROM model_usage_totals WHERE succeeded > 0 ORDER BY model_id
"""


# The recounts name transcript statuses through bind parameters; the totals ignore them.
_STATUSES = {
    "succeeded": TranscriptStatus.SUCCEEDED,
    "failed": TranscriptStatus.FAILED,
    "skipped": TranscriptStatus.SKIPPED,
}


async def _rows(db: Database, query: str) -> list[tuple[object, ...]]:
    async with db.session() as session:
        return [tuple(row) for row in await session.execute(text(query), _STATUSES)]


async def _assert_totals_match(db: Database) -> None:
    assert await _rows(db, _TOTALS_PER_RUN) == await _rows(db, _RECOUNT_PER_RUN)
    assert await _rows(db, _TOTALS_PER_MODEL) == await _rows(db, _RECOUNT_PER_MODEL)


async def test_totals_equal_a_recount_after_successes_failures_and_retries(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    chance = random.Random(16)
    run_ids = []
    for _ in range(3):
        for model in MODELS.values():
            # Successes, transient errors (retried in the step), final refusals and
            # outages that exhaust the retries (retryable by retry_failed_probes).
            outcomes = ["ok", "ok", "400", "503"]
            chance.shuffle(outcomes)
            sim.configure(model, outcomes=outcomes, then="503")
        definition = await make_definition(db, admin, scenarios=chance.randint(2, 5))
        run = await create_run(db, admin, definition.id, list(MODELS))
        await driver.run_all(run.id)
        run_ids.append(run.id)
        await _assert_totals_match(db)

    failed_before = sum(int(str(row[3])) for row in await _rows(db, _TOTALS_PER_RUN))
    assert failed_before > 0
    for model in MODELS.values():
        sim.configure(model)  # the providers recover
    for run_id in run_ids:
        retried = await retry_failed_probes(db, admin, run_id)
        await driver.run_all(run_id)
        await _assert_totals_match(db)
        breakdown = await cost_breakdown(db, run_id)
        recount = await _rows(
            db, f"SELECT coalesce(sum(estimated_cost), 0) FROM transcripts WHERE run_id = {run_id}"
        )
        assert breakdown.total.cost == Decimal(str(recount[0][0]))
        assert breakdown.total.probe_count == retried.total - retried.cancelled

    estimate = await estimate_run_cost(db, definition.id, list(MODELS), settings=driver.settings)
    recount = await _rows(db, _RECOUNT_PER_MODEL)
    averages = {row[0]: round(Decimal(str(row[2])) / int(str(row[1]))) for row in recount}
    assert {
        line.target.model.id: (line.basis, line.input_tokens) for line in estimate.per_model
    } == {
        model_id: ("HISTORY", average * estimate.scenario_count)
        for model_id, average in averages.items()
    }
    failed_after = sum(int(str(row[3])) for row in await _rows(db, _TOTALS_PER_RUN))
    assert 0 < failed_after < failed_before  # the retried outages succeeded, the 400s stay

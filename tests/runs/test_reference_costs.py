"""The oracle end to end: probes through the simulator in all three API styles, with the
reference prices applied, record exactly what `genai_prices.calc_price` charges.

Each seeded model answers with cache reads, cache writes and reasoning in its
own API's shape (OpenAI counts cached tokens inside prompt_tokens, Anthropic's
input_tokens leaves both cache figures out, Gemini reports cached content and
thoughts apart, xAI leaves reasoning out of completion_tokens). Long prompts
cross the tier of the models that have one. Transcripts written before the
prices were applied keep their snapshots.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import genai_prices
from runs_support import Driver, make_definition
from sqlalchemy import select

from modeldesk.auth.principal import Principal
from modeldesk.catalog.price_proposals import apply_price_proposals
from modeldesk.catalog.reference_prices import find_reference_model, load_reference
from modeldesk.db.run_tables import Transcript
from modeldesk.db.seed import SEED_PROVIDERS
from modeldesk.db.tables import LlmModel
from modeldesk.enums import TranscriptStatus
from modeldesk.llm import CostSnapshot
from modeldesk.runs import create_run, estimate_run_cost
from modeldesk.testing import Simulator

# model id -> (prompt, cache reads, cache writes, output, reasoning): normalised totals.
USAGE = {
    "gpt-5-mini": (12_000, 8_000, 0, 2_500, 1_800),
    "gpt-5.1": (240_000, 200_000, 0, 9_000, 6_000),
    "claude-haiku-4-5": (30_000, 12_000, 6_000, 900, 0),
    "claude-sonnet-4-5": (250_000, 120_000, 40_000, 3_000, 0),
    "grok-4-1-fast-reasoning": (9_000, 4_000, 0, 1_500, 1_200),
    "grok-4-0709": (60_000, 20_000, 0, 4_000, 3_000),
    "gemini-2.5-pro": (230_000, 100_000, 0, 5_000, 3_500),
    "deepseek-chat": (7_000, 3_000, 0, 400, 0),
    "deepseek-reasoner": (7_000, 3_000, 0, 2_400, 2_000),
    "mistral-large-2512": (15_000, 5_000, 0, 700, 0),
}
PROVIDER_OF = {model[0]: seed for seed in SEED_PROVIDERS for model in seed.models}


def _configure(sim: Simulator) -> None:
    for model_id, (prompt, read, write, output, reasoning) in USAGE.items():
        sim.configure(
            model_id,
            provider=PROVIDER_OF[model_id].name,
            input_tokens=prompt,
            cached_tokens=read,
            cache_creation_tokens=write,
            output_tokens=output,
            reasoning_tokens=reasoning,
        )


def _calc_price(model_id: str, reference_provider: str, at: datetime) -> Decimal:
    """What `genai_prices` charges for one call of the model's USAGE (reasoning is output)."""
    prompt, read, write, output, _ = USAGE[model_id]
    usage = genai_prices.Usage(
        input_tokens=prompt, cache_read_tokens=read, cache_write_tokens=write, output_tokens=output
    )
    price = genai_prices.calc_price(
        usage, model_id, provider_id=reference_provider, genai_request_timestamp=at
    )
    return price.total_price


async def _transcripts(driver: Driver, run_id: int) -> dict[str, Transcript]:
    async with driver.db.session() as session:
        rows = await session.execute(
            select(LlmModel.model_id, Transcript)
            .join(Transcript, Transcript.model_id == LlmModel.id)
            .where(Transcript.run_id == run_id)
        )
        return {model_id: transcript for model_id, transcript in rows.all()}


async def _run_every_seeded_model(driver: Driver, admin: Principal) -> dict[str, Transcript]:
    definition = await make_definition(driver.db, admin, scenarios=1)
    models = [f"{PROVIDER_OF[model_id].name}/{model_id}" for model_id in USAGE]
    run = await create_run(driver.db, admin, definition.id, models)
    await driver.run_all(run.id)
    return await _transcripts(driver, run.id)


async def test_probe_costs_equal_calc_price_in_all_three_styles(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    _configure(sim)
    before = await _run_every_seeded_model(driver, admin)
    applied = await apply_price_proposals(driver.db, admin, driver.settings)
    assert {proposal.model.model_id for proposal in applied} == set(USAGE)

    after = await _run_every_seeded_model(driver, admin)
    data = await load_reference(driver.settings)
    tiers_applied = set()
    for model_id, transcript in after.items():
        prompt, read, write, output, reasoning = USAGE[model_id]
        assert transcript.status == TranscriptStatus.SUCCEEDED, (model_id, transcript.error_code)
        recorded = (
            transcript.input_tokens,
            transcript.cached_input_tokens,
            transcript.cache_write_tokens,
            transcript.output_tokens,
            transcript.reasoning_tokens,
        )
        assert recorded == (prompt, read, write, output, reasoning), model_id
        reference_name = PROVIDER_OF[model_id].reference_provider or PROVIDER_OF[model_id].name
        found = find_reference_model(data, reference_name, model_id, transcript.created_at)
        assert found is not None
        expected = _calc_price(model_id, reference_name, found.in_force_at)
        assert transcript.estimated_cost == expected, model_id
        assert transcript.cost_snapshot is not None, model_id
        snapshot = CostSnapshot.from_json(transcript.cost_snapshot)
        assert snapshot.cost == expected and not snapshot.unpriced
        if snapshot.tier_applied:
            tiers_applied.add(model_id)
    assert {"claude-sonnet-4-5", "gemini-2.5-pro"} <= tiers_applied

    # Calls made before the prices were applied keep what they were charged.
    earlier = await _transcripts(driver, before["gpt-5-mini"].run_id)
    for model_id, transcript in before.items():
        assert earlier[model_id].estimated_cost == transcript.estimated_cost
        assert earlier[model_id].cost_snapshot == transcript.cost_snapshot
        assert transcript.cost_snapshot is not None, model_id
        assert CostSnapshot.from_json(transcript.cost_snapshot).cached_input_price is None
    sonnet_before = before["claude-sonnet-4-5"].estimated_cost
    # The seed's 3/15 charged every input token at 3: the new bill differs.
    assert sonnet_before == Decimal(250_000 * 3 + 3_000 * 15) / 10**6
    assert after["claude-sonnet-4-5"].estimated_cost != sonnet_before


async def test_estimates_price_each_probe_by_the_same_rules(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    """History averages, cache reads and writes included, priced per probe with its tier."""
    _configure(sim)
    await apply_price_proposals(driver.db, admin, driver.settings)
    await _run_every_seeded_model(driver, admin)
    definition = await make_definition(driver.db, admin, scenarios=3)
    models = ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-pro", "openai/gpt-5-mini"]
    estimate = await estimate_run_cost(driver.db, definition.id, models, settings=driver.settings)
    data = await load_reference(driver.settings)
    for line in estimate.per_model:
        model_id = line.target.model.model_id
        found = find_reference_model(data, line.target.provider.name, model_id, datetime.now(UTC))
        assert found is not None
        one_call = _calc_price(model_id, line.target.provider.name, found.in_force_at)
        assert (line.basis, line.probe_count) == ("HISTORY", 3)
        assert line.cost == 3 * one_call, model_id

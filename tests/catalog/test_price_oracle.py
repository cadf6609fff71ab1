"""The oracle: with the reference prices applied, every seeded model costs exactly what
`genai_prices.calc_price` says, for every usage.

The prices go the whole way a call's prices go: applied as proposals, stored on
the model and in a new price version, read back from that version, and priced
by `snapshot_cost`. The grid covers small calls, cache reads, cache writes, both,
prompts just under, at and over each tier threshold, and output-heavy calls; a
property test adds random usages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cache

import genai_prices
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from modeldesk.auth.principal import Principal
from modeldesk.catalog.price_proposals import apply_price_proposals, review_prices
from modeldesk.catalog.price_sets import quote_of
from modeldesk.catalog.reference_prices import (
    find_reference_model,
    load_reference,
    reference_provider_of,
)
from modeldesk.config import Settings
from modeldesk.db.seed import SEED_PROVIDERS
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmModelPriceVersion, LlmProvider
from modeldesk.llm import PriceQuote, Usage, fallback_quote, snapshot_cost

BUNDLED = Settings(prices_file=None)
FALLBACK = fallback_quote(None, None, BUNDLED)
SEEDED = {(seed.name, model[0]) for seed in SEED_PROVIDERS for model in seed.models}
# Where tiers start for a model without one: large prompts are covered all the same.
UNTIERED_SIZE = 200_000


@dataclass(frozen=True)
class Priced:
    """A seeded model as a call sees it: its price version, and the reference it matches."""

    identifier: str
    reference_provider: str
    model_id: str
    prices: PriceQuote
    in_force_at: datetime


def usage_grid(threshold: int) -> list[Usage]:
    """(prompt, cache reads, cache writes, output) around `threshold` and away from it."""
    rows = [
        (0, 0, 0, 0),
        (1, 0, 0, 1),
        (1_234, 0, 0, 567),
        (10_000, 6_000, 0, 500),
        (10_000, 0, 4_000, 500),
        (50_000, 20_000, 10_000, 1_000),
        (8_000, 8_000, 0, 10),
        (7_000, 0, 7_000, 10),
        (120, 0, 0, 64_000),
        (threshold - 1, 1_000, 500, 1_000),
        (threshold - 1, 0, 0, 0),
        (threshold, 150_000, 30_000, 2_000),
        (threshold, 0, 0, 0),
        (threshold + 1, 0, 0, 0),
        (threshold + 1, 150_000, 40_000, 3_000),
        (threshold + 1, threshold + 1, 0, 1),
        (threshold + 1, 0, threshold + 1, 1),
        (2 * threshold, 300_000, 50_000, 80_000),
        (1_000_000, 400_000, 100_000, 128_000),
    ]
    return [
        Usage(total, output, cached_input_tokens=read, cache_creation_input_tokens=write)
        for total, read, write, output in rows
    ]


def reference_cost(priced: Priced, usage: Usage) -> Decimal:
    reference_usage = genai_prices.Usage(
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_creation_input_tokens,
        output_tokens=usage.output_tokens,
    )
    calculation = genai_prices.calc_price(
        reference_usage,
        priced.model_id,
        provider_id=priced.reference_provider,
        genai_request_timestamp=priced.in_force_at,
    )
    return calculation.total_price


async def _priced_after_apply(db: Database, admin: Principal) -> list[Priced]:
    await apply_price_proposals(db, admin, BUNDLED)
    assert (await review_prices(db, BUNDLED)).proposals == []
    data = await load_reference(BUNDLED)
    async with db.session() as session:
        rows = (
            await session.execute(
                select(LlmModel, LlmProvider, LlmModelPriceVersion)
                .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
                .join(LlmModelPriceVersion, LlmModelPriceVersion.model_id == LlmModel.id)
                .where(LlmModelPriceVersion.effective_until.is_(None))
                .order_by(LlmModel.id)
            )
        ).all()
    priced = []
    for model, provider, version in rows:
        reference_name = reference_provider_of(provider)
        found = find_reference_model(data, reference_name, model.model_id, version.effective_from)
        assert found is not None and found.prices is not None, model.model_id
        priced.append(
            Priced(
                f"{provider.name}/{model.model_id}",
                reference_name,
                model.model_id,
                quote_of(version),
                found.in_force_at,
            )
        )
    return priced


async def test_every_seeded_model_costs_what_calc_price_says(
    seeded_db: Database, admin: Principal
) -> None:
    priced = await _priced_after_apply(seeded_db, admin)
    assert {tuple(p.identifier.split("/", 1)) for p in priced} == SEEDED
    tiers_seen = 0
    for model in priced:
        tier = model.prices.long_context_tier
        tiers_seen += tier is not None
        for usage in usage_grid(UNTIERED_SIZE if tier is None else tier.threshold_tokens):
            ours = snapshot_cost(usage, model.prices, fallback=FALLBACK)
            assert not ours.unpriced
            assert ours.cost == reference_cost(model, usage), (model.identifier, usage)
    # Sonnet 4.5 and Gemini 2.5 Pro bill long prompts at higher rates: the tiers were tested.
    assert tiers_seen >= 2


async def test_the_version_prices_are_the_reference_prices(
    seeded_db: Database, admin: Principal
) -> None:
    data = await load_reference(BUNDLED)
    for model in await _priced_after_apply(seeded_db, admin):
        found = find_reference_model(
            data, model.reference_provider, model.model_id, model.in_force_at
        )
        assert found is not None and found.prices is not None
        assert replace(model.prices, price_version_id=None) == found.prices


@cache
def _reference_prices() -> tuple[Priced, ...]:
    """The reference prices of every seeded model, as apply writes them (no database)."""

    async def load() -> tuple[Priced, ...]:
        data = await load_reference(BUNDLED)
        now = datetime.now().astimezone()
        priced = []
        for seed in SEED_PROVIDERS:
            reference_name = seed.reference_provider or seed.name
            for model_id, *_ in seed.models:
                found = find_reference_model(data, reference_name, model_id, now)
                assert found is not None and found.prices is not None
                priced.append(
                    Priced(
                        f"{seed.name}/{model_id}",
                        reference_name,
                        model_id,
                        found.prices,
                        found.in_force_at,
                    )
                )
        return tuple(priced)

    return asyncio.run(load())


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    prompt = draw(st.integers(0, 2_000_000))
    read = draw(st.integers(0, prompt))
    write = draw(st.integers(0, prompt - read))
    output = draw(st.integers(0, 300_000))
    return Usage(prompt, output, cached_input_tokens=read, cache_creation_input_tokens=write)


@settings(max_examples=400, deadline=None)
@given(index=st.integers(0, len(SEEDED) - 1), usage=usages())
def test_random_usages_cost_what_calc_price_says(index: int, usage: Usage) -> None:
    model = _reference_prices()[index]
    ours = snapshot_cost(usage, model.prices, fallback=FALLBACK)
    assert ours.cost == reference_cost(model, usage), model.identifier

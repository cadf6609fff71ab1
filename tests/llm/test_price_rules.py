"""Cache-write prices and the long-context tier: which rates a call is charged, exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest

from modeldesk.config import Settings
from modeldesk.llm import (
    CostSnapshot,
    LongContextTier,
    PriceQuote,
    Usage,
    charged_rates,
    fallback_quote,
    snapshot_cost,
)

D = Decimal
FALLBACK = fallback_quote(None, None, Settings())
SONNET = PriceQuote(
    D("3"),
    D("15"),
    D("0.3"),
    price_version_id=4,
    cache_write_per_million=D("3.75"),
    long_context_tier=LongContextTier(200_000, D("6"), D("0.6"), D("7.5"), D("22.5")),
)


def test_cache_writes_are_charged_apart_and_taken_out_of_the_input() -> None:
    usage = Usage(1000, 100, cached_input_tokens=300, cache_creation_input_tokens=200)
    snap = snapshot_cost(usage, SONNET, fallback=FALLBACK)
    expected = 500 * Fraction(3) + 300 * Fraction("0.3") + 200 * Fraction("3.75") + 100 * 15
    assert Fraction(snap.cost) == expected / 10**6
    assert (snap.cache_write_tokens, snap.cache_write_price) == (200, D("3.75"))
    assert snap.tier_threshold_tokens == 200_000 and not snap.tier_applied


def test_without_a_cache_write_price_writes_are_charged_as_input() -> None:
    prices = PriceQuote(D("1.25"), D("10"), D("0.125"))
    with_writes = Usage(1000, 0, cached_input_tokens=100, cache_creation_input_tokens=400)
    without = Usage(1000, 0, cached_input_tokens=100)
    assert snapshot_cost(with_writes, prices, fallback=FALLBACK).cost == (
        snapshot_cost(without, prices, fallback=FALLBACK).cost
    )


@pytest.mark.parametrize(
    ("prompt", "applied"), [(199_999, False), (200_000, False), (200_001, True)]
)
def test_the_tier_applies_to_the_whole_call_strictly_above_its_threshold(
    prompt: int, applied: bool
) -> None:
    rates = charged_rates(SONNET, FALLBACK, prompt)
    assert rates.tier_applied is applied
    base = (D("3"), D("15"), D("0.3"), D("3.75"))
    expected = (D("6"), D("22.5"), D("0.6"), D("7.5")) if applied else base
    got = (
        rates.input_per_million,
        rates.output_per_million,
        rates.cached_input_per_million,
        rates.cache_write_per_million,
    )
    assert got == expected


def test_the_threshold_counts_cache_reads_and_writes() -> None:
    usage = Usage(200_001, 10, cached_input_tokens=150_000, cache_creation_input_tokens=50_000)
    snap = snapshot_cost(usage, SONNET, fallback=FALLBACK)
    assert snap.tier_applied
    expected = 1 * 6 + 150_000 * Fraction("0.6") + 50_000 * Fraction("7.5") + 10 * Fraction("22.5")
    assert Fraction(snap.cost) == expected / 10**6
    assert (snap.input_price, snap.output_price) == (D("6"), D("22.5"))


def test_a_tier_price_left_unset_keeps_the_base_price() -> None:
    prices = PriceQuote(
        D("1.25"), D("10"), D("0.125"), long_context_tier=LongContextTier(200_000, D("2.5"))
    )
    rates = charged_rates(prices, FALLBACK, 300_000)
    assert (rates.input_per_million, rates.output_per_million) == (D("2.5"), D("10"))
    assert rates.cached_input_per_million == D("0.125")
    assert rates.cache_write_per_million is None


def test_a_tier_cache_price_without_a_base_one_applies_only_above_the_threshold() -> None:
    prices = PriceQuote(D("1"), D("2"), long_context_tier=LongContextTier(10, D("2"), D("0.5")))
    assert charged_rates(prices, FALLBACK, 10).cached_input_per_million is None
    assert charged_rates(prices, FALLBACK, 11).cached_input_per_million == D("0.5")


def test_a_zero_tier_price_is_a_price_not_a_missing_one() -> None:
    prices = PriceQuote(D("1"), D("2"), long_context_tier=LongContextTier(10, D("0"), None))
    assert charged_rates(prices, FALLBACK, 11).input_per_million == D("0")


def test_unpriced_models_fall_back_and_keep_their_tier() -> None:
    prices = PriceQuote(
        None, D("2"), long_context_tier=LongContextTier(10, output_per_million=D("4"))
    )
    rates = charged_rates(prices, PriceQuote(D("7"), D("9")), 11)
    assert rates.unpriced
    assert (rates.input_per_million, rates.output_per_million) == (D("7"), D("4"))


def test_snapshot_records_every_price_used_and_round_trips() -> None:
    usage = Usage(250_000, 1000, cached_input_tokens=1000, cache_creation_input_tokens=2000)
    snap = snapshot_cost(usage, SONNET, fallback=FALLBACK)
    data = json.loads(json.dumps(snap.to_json()))
    assert data["longContextTier"] == {"thresholdTokens": 200_000, "applied": True}
    assert data["costInputPerMillion"] == "6"
    assert data["costCacheWritePerMillion"] == "7.5"
    assert data["cacheWriteTokens"] == 2000
    assert CostSnapshot.from_json(data) == snap


def test_a_snapshot_written_before_tiers_reads_back_as_it_was_charged() -> None:
    old = {
        "priceVersionId": 1,
        "costInputPerMillion": "0.25",
        "costOutputPerMillion": "2.00",
        "costCachedInputPerMillion": None,
        "inputTokens": 1200,
        "outputTokens": 300,
        "cachedInputTokens": 0,
        "reasoningTokens": 0,
        "estimatedCost": "0.0009",
        "unpriced": False,
    }
    snap = CostSnapshot.from_json(old)
    assert (snap.cache_write_price, snap.cache_write_tokens) == (None, 0)
    assert (snap.tier_threshold_tokens, snap.tier_applied) == (None, False)
    assert snap.cost == D("0.0009")


def test_usage_parts_may_not_exceed_the_prompt() -> None:
    with pytest.raises(ValueError):
        Usage(10, 0, cached_input_tokens=6, cache_creation_input_tokens=5)

"""Exact decimal costs and the snapshot that records them."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from fractions import Fraction

import pytest

from modeldesk.config import Settings
from modeldesk.llm import (
    CostSnapshot,
    PriceQuote,
    Usage,
    compute_cost,
    fallback_quote,
    snapshot_cost,
)

D = Decimal


def cost(inp: int, out: int, in_price: str, out_price: str, **kw: object) -> Decimal:
    return compute_cost(
        input_tokens=inp,
        output_tokens=out,
        input_price=D(in_price),
        output_price=D(out_price),
        **kw,  # type: ignore[arg-type]
    )


def test_zero_tokens_cost_exactly_zero() -> None:
    result = cost(0, 0, "1.25", "10")
    assert isinstance(result, Decimal)
    assert result == 0


def test_seed_price_example() -> None:
    # gpt-5-mini: 0.25 in, 2.00 out per million.
    assert cost(1000, 500, "0.25", "2.00") == D("0.00125")


def test_huge_token_counts_keep_every_digit() -> None:
    assert cost(10**12, 10**12, "1.2345", "10.0001") == D("11234600")
    big = 10**15 + 7
    expected = (
        Fraction(big) * Fraction("0.1234") / 10**6 + Fraction(big) * Fraction("9.8765") / 10**6
    )
    result = cost(big, big, "0.1234", "9.8765")
    assert Fraction(result) == expected


def test_four_decimal_prices_are_exact() -> None:
    result = cost(1234, 5678, "0.1234", "9.8765")
    expected = (Fraction(1234) * Fraction("0.1234") + Fraction(5678) * Fraction("9.8765")) / 10**6
    assert Fraction(result) == expected
    assert result == D("0.0562310426")


def test_tiny_costs_are_not_rounded_away() -> None:
    assert cost(1, 0, "0.0001", "0") == D("1E-10")


def test_decimal_sums_do_not_drift_like_floats() -> None:
    one = cost(10**6, 0, "0.1", "0")
    assert one + one + one == D("0.3")


def test_cached_tokens_at_the_cached_price_are_part_of_input() -> None:
    result = cost(1000, 300, "1.25", "10", cached_input_tokens=600, cached_input_price=D("0.125"))
    assert Fraction(result) == (400 * Fraction("1.25") + 600 * Fraction("0.125") + 300 * 10) / 10**6


def test_without_a_cached_price_all_input_is_charged_at_the_input_price() -> None:
    assert cost(1000, 0, "1.25", "10", cached_input_tokens=600) == cost(1000, 0, "1.25", "10")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_price": 0.25},
        {"input_price": D("-1")},
        {"cached_input_price": D("-0.1"), "cached_input_tokens": 1},
        {"input_tokens": -1},
        {"cached_input_tokens": 2000},
    ],
)
def test_invalid_inputs_are_refused(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {
        "input_tokens": 1000,
        "output_tokens": 10,
        "input_price": D("1"),
        "output_price": D("2"),
        **kwargs,
    }
    with pytest.raises(ValueError):
        compute_cost(**args)  # type: ignore[arg-type]


USAGE = Usage(input_tokens=1000, output_tokens=300, cached_input_tokens=600, reasoning_tokens=200)
SETTINGS_FALLBACK = fallback_quote(None, None, Settings())


def test_snapshot_counts_reasoning_once() -> None:
    snap = snapshot_cost(
        USAGE, PriceQuote(D("1"), D("10"), price_version_id=17), fallback=SETTINGS_FALLBACK
    )
    assert snap.cost == D("0.004")  # 1000 * 1 + 300 * 10, per million; reasoning is inside 300
    assert snap.price_version_id == 17
    assert (snap.reasoning_tokens, snap.cached_input_tokens) == (200, 600)
    assert not snap.unpriced


def test_snapshot_json_round_trip_keeps_full_precision() -> None:
    prices = PriceQuote(
        D("0.1234"), D("9.8765"), cached_input_per_million=D("0.0123"), price_version_id=3
    )
    snap = snapshot_cost(USAGE, prices, fallback=SETTINGS_FALLBACK)
    data = json.loads(json.dumps(snap.to_json()))
    assert data["estimatedCost"] == format(snap.cost, "f")
    assert "E" not in data["estimatedCost"]
    assert data["costCachedInputPerMillion"] == "0.0123"
    assert CostSnapshot.from_json(data) == snap


def test_snapshot_without_cached_price_round_trips() -> None:
    snap = snapshot_cost(
        Usage(1, 1), PriceQuote(D("0.0001"), D("0.0001")), fallback=SETTINGS_FALLBACK
    )
    data = snap.to_json()
    assert data["costCachedInputPerMillion"] is None
    assert data["estimatedCost"] == "0.0000000002"
    assert CostSnapshot.from_json(data) == snap


def test_missing_prices_use_the_fallback_flagged_and_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="modeldesk.llm.cost"):
        snap = snapshot_cost(
            USAGE, None, fallback=PriceQuote(D("2"), D("3")), context="openai/gpt-x"
        )
    assert snap.unpriced
    assert (snap.input_price, snap.output_price) == (D("2"), D("3"))
    assert snap.cost > 0
    assert "openai/gpt-x" in caplog.text and "unpriced" in caplog.text


def test_a_single_missing_price_falls_back_to_the_provider_default() -> None:
    provider_defaults = PriceQuote(D("5"), D("15"))
    snap = snapshot_cost(
        USAGE, PriceQuote(D("1"), None, price_version_id=9), fallback=provider_defaults
    )
    assert (snap.input_price, snap.output_price, snap.unpriced) == (D("1"), D("15"), True)
    assert snap.price_version_id == 9


def test_the_fallback_is_the_provider_default_else_the_setting() -> None:
    settings = Settings(fallback_input_price=D("2"), fallback_output_price=D("3"))
    assert fallback_quote(None, None, settings) == PriceQuote(D("2"), D("3"))
    assert fallback_quote(D("5"), None, settings) == PriceQuote(D("5"), D("3"))
    assert fallback_quote(None, D("0"), settings) == PriceQuote(D("2"), D("0"))


def test_fallback_without_prices_is_refused() -> None:
    with pytest.raises(ValueError):
        snapshot_cost(USAGE, None, fallback=PriceQuote(None, None))


def test_usage_refuses_parts_larger_than_totals() -> None:
    with pytest.raises(ValueError):
        Usage(input_tokens=1, cached_input_tokens=2)
    with pytest.raises(ValueError):
        Usage(output_tokens=1, reasoning_tokens=2)
    with pytest.raises(ValueError):
        Usage(input_tokens=-1)

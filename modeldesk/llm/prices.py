"""Prices as providers bill them: base rates, cache rates and one long-context tier.

The rules are those of `genai_prices.calc_price`, the reference calculation
this catalogue is checked against (see the oracle tests):

- A call's `input_tokens` is the whole prompt. Cache reads and cache writes are
  parts of it. A part with a price of its own is charged at that price and taken
  out of the input; a part without one stays in the input, at the input price.
- A long-context tier applies to the whole call (a "cliff", not a marginal
  band) when the prompt, cache reads and writes included, is strictly greater
  than its threshold.
- A tier price left unset means the base price of that kind applies above the
  threshold too, as in genai-prices, where each kind has its own tiers or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class LongContextTier:
    """Prices for calls whose prompt exceeds `threshold_tokens`; None keeps the base price."""

    threshold_tokens: int
    input_per_million: Decimal | None = None
    cached_input_per_million: Decimal | None = None
    cache_write_per_million: Decimal | None = None
    output_per_million: Decimal | None = None

    def applies_to(self, input_tokens: int) -> bool:
        return input_tokens > self.threshold_tokens


@dataclass(frozen=True)
class PriceQuote:
    """The prices in force for a model at call time (USD per million); None marks a missing price.

    A missing cached-input or cache-write price is not a gap: those tokens are
    then billed as ordinary input. Only a missing input or output price makes a
    call unpriced.
    """

    input_per_million: Decimal | None
    output_per_million: Decimal | None
    cached_input_per_million: Decimal | None = None
    price_version_id: int | None = None
    cache_write_per_million: Decimal | None = None
    long_context_tier: LongContextTier | None = None


@dataclass(frozen=True)
class ChargedRates:
    """The rates one call is charged at, once the fallback and the tier are settled."""

    input_per_million: Decimal
    output_per_million: Decimal
    # None: those tokens are charged as input (no price of their own).
    cached_input_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    # The version's tier threshold (None without a tier) and whether this call passed it.
    tier_threshold_tokens: int | None
    tier_applied: bool
    unpriced: bool


def _first(*candidates: Decimal | None) -> Decimal | None:
    return next((price for price in candidates if price is not None), None)


def _above_threshold(tier_price: Decimal | None, base: Decimal) -> Decimal:
    return base if tier_price is None else tier_price


def charged_rates(prices: PriceQuote, fallback: PriceQuote, input_tokens: int) -> ChargedRates:
    """The rates a call with `input_tokens` of prompt is charged at.

    A missing input or output price comes from `fallback` (the provider's
    defaults, else the settings') and flags the call `unpriced`.
    """
    unpriced = prices.input_per_million is None or prices.output_per_million is None
    base_input = _first(prices.input_per_million, fallback.input_per_million)
    base_output = _first(prices.output_per_million, fallback.output_per_million)
    if base_input is None or base_output is None:
        raise ValueError("fallback prices must give both an input and an output price")
    tier = prices.long_context_tier
    applied = tier is not None and tier.applies_to(input_tokens)
    cached, cache_write = prices.cached_input_per_million, prices.cache_write_per_million
    if tier is not None and applied:
        base_input = _above_threshold(tier.input_per_million, base_input)
        base_output = _above_threshold(tier.output_per_million, base_output)
        # A cache kind priced neither here nor in the base is billed as input (at the
        # tier's input price), as genai-prices bills a kind it has no price for.
        cached = _first(tier.cached_input_per_million, cached)
        cache_write = _first(tier.cache_write_per_million, cache_write)
    return ChargedRates(
        input_per_million=base_input,
        output_per_million=base_output,
        cached_input_per_million=cached,
        cache_write_per_million=cache_write,
        tier_threshold_tokens=None if tier is None else tier.threshold_tokens,
        tier_applied=applied,
        unpriced=unpriced,
    )

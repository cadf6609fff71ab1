"""What a call cost, in exact decimals, and the snapshot of prices that said so.

Prices are USD per million tokens. Which rates a call is charged at (fallback,
long-context tier) is decided in `llm.prices`; the arithmetic is here. Nothing
here touches float: a float price such as 0.1 is not 0.1, and run totals summed
from thousands of calls would drift. Amounts keep full precision; rounding is
for display only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from typing import Any

from modeldesk.config import Settings
from modeldesk.llm.prices import ChargedRates, PriceQuote, charged_rates
from modeldesk.llm.types import Usage

logger = logging.getLogger(__name__)

_MILLION = Decimal(1_000_000)


def compute_cost(
    *,
    input_tokens: int,
    output_tokens: int,
    input_price: Decimal,
    output_price: Decimal,
    cached_input_tokens: int = 0,
    cached_input_price: Decimal | None = None,
    cache_write_tokens: int = 0,
    cache_write_price: Decimal | None = None,
) -> Decimal:
    """`input * input price / 1e6 + output * output price / 1e6`, exactly.

    Cache reads (`cached_input_tokens`) and cache writes are parts of
    `input_tokens`: a part with a price of its own is charged at it and the
    rest of the input at the input price; a part without one is charged as
    input. Reasoning tokens are part of `output_tokens` and so are not a
    parameter at all. Tier selection happens before (see `charged_rates`).
    """
    for price in (input_price, output_price, cached_input_price, cache_write_price):
        if price is not None and (not isinstance(price, Decimal) or price < 0):
            raise ValueError(f"prices must be non-negative Decimals, got {price!r}")
    if min(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens) < 0:
        raise ValueError("token counts must be >= 0")
    if cached_input_tokens + cache_write_tokens > input_tokens:
        raise ValueError("cached and cache-write tokens are parts of input tokens; they exceed it")
    with localcontext() as ctx:
        # Products of integers and finite decimals are exact given enough
        # digits; trapping Inexact turns any silent rounding into a loud bug.
        ctx.prec = 120
        ctx.traps[Inexact] = True
        uncached = input_tokens
        input_cost = Decimal(0)
        for tokens, price in (
            (cached_input_tokens, cached_input_price),
            (cache_write_tokens, cache_write_price),
        ):
            if price is not None:
                uncached -= tokens
                input_cost += tokens * price
        input_cost += uncached * input_price
        return (input_cost + output_tokens * output_price) / _MILLION


@dataclass(frozen=True)
class CostSnapshot:
    """The prices and counts a transcript's cost was computed from, stored with it.

    Reading a run's cost from snapshots (never from current prices) is what
    keeps it unchanged after a price edit. The prices are the ones charged, the
    long-context tier's when it applied; `tier_threshold_tokens` is None when
    the version had no tier. Snapshots written before cache-write prices and
    tiers existed read back with none, which is what they were charged by.
    """

    price_version_id: int | None
    input_price: Decimal
    output_price: Decimal
    cached_input_price: Decimal | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    cost: Decimal
    unpriced: bool = False
    cache_write_price: Decimal | None = None
    cache_write_tokens: int = 0
    tier_threshold_tokens: int | None = None
    tier_applied: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form; decimals as plain-notation strings so no digit is lost."""
        return {
            "priceVersionId": self.price_version_id,
            "costInputPerMillion": _dec_str(self.input_price),
            "costOutputPerMillion": _dec_str(self.output_price),
            "costCachedInputPerMillion": _optional_dec_str(self.cached_input_price),
            "costCacheWritePerMillion": _optional_dec_str(self.cache_write_price),
            "longContextTier": (
                None
                if self.tier_threshold_tokens is None
                else {"thresholdTokens": self.tier_threshold_tokens, "applied": self.tier_applied}
            ),
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "cachedInputTokens": self.cached_input_tokens,
            "cacheWriteTokens": self.cache_write_tokens,
            "reasoningTokens": self.reasoning_tokens,
            "estimatedCost": _dec_str(self.cost),
            "unpriced": self.unpriced,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CostSnapshot:
        version = data.get("priceVersionId")
        tier = data.get("longContextTier")
        return cls(
            price_version_id=None if version is None else int(version),
            input_price=Decimal(data["costInputPerMillion"]),
            output_price=Decimal(data["costOutputPerMillion"]),
            cached_input_price=_optional_decimal(data.get("costCachedInputPerMillion")),
            input_tokens=int(data["inputTokens"]),
            output_tokens=int(data["outputTokens"]),
            cached_input_tokens=int(data.get("cachedInputTokens", 0)),
            reasoning_tokens=int(data.get("reasoningTokens", 0)),
            cost=Decimal(data["estimatedCost"]),
            unpriced=bool(data.get("unpriced", False)),
            cache_write_price=_optional_decimal(data.get("costCacheWritePerMillion")),
            cache_write_tokens=int(data.get("cacheWriteTokens", 0)),
            tier_threshold_tokens=None if tier is None else int(tier["thresholdTokens"]),
            tier_applied=bool(tier and tier.get("applied")),
        )


def _dec_str(value: Decimal) -> str:
    return format(value, "f")


def _optional_dec_str(value: Decimal | None) -> str | None:
    return None if value is None else _dec_str(value)


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def fallback_quote(
    provider_input: Decimal | None, provider_output: Decimal | None, settings: Settings
) -> PriceQuote:
    """What a side without a model price is charged: the provider's default, else the setting."""
    return PriceQuote(
        settings.fallback_input_price if provider_input is None else provider_input,
        settings.fallback_output_price if provider_output is None else provider_output,
    )


def price_usage(
    usage: Usage, prices: PriceQuote, fallback: PriceQuote
) -> tuple[ChargedRates, Decimal]:
    """The rates a call's usage is charged at, and what it costs: the one pricing rule
    that calls (`snapshot_cost`) and estimates both follow."""
    rates = charged_rates(prices, fallback, usage.input_tokens)
    cost = compute_cost(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        input_price=rates.input_per_million,
        output_price=rates.output_per_million,
        cached_input_tokens=usage.cached_input_tokens,
        cached_input_price=rates.cached_input_per_million,
        cache_write_tokens=usage.cache_creation_input_tokens,
        cache_write_price=rates.cache_write_per_million,
    )
    return rates, cost


def snapshot_cost(
    usage: Usage,
    prices: PriceQuote | None,
    *,
    fallback: PriceQuote,
    context: str = "",
) -> CostSnapshot:
    """Price a call's usage and record how.

    A missing input or output price is taken from `fallback` (see
    `fallback_quote`) and the snapshot is flagged `unpriced`, with a warning:
    an unknown price must never look like $0.
    """
    prices = prices or PriceQuote(None, None)
    rates, cost = price_usage(usage, prices, fallback)
    if rates.unpriced:
        logger.warning(
            "%s: no price recorded (version %s, input %s, output %s); "
            "charging fallback prices %s/%s per million and flagging the cost unpriced",
            context or "call",
            prices.price_version_id,
            prices.input_per_million,
            prices.output_per_million,
            fallback.input_per_million,
            fallback.output_per_million,
        )
    return CostSnapshot(
        price_version_id=prices.price_version_id,
        input_price=rates.input_per_million,
        output_price=rates.output_per_million,
        cached_input_price=rates.cached_input_per_million,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cost=cost,
        unpriced=rates.unpriced,
        cache_write_price=rates.cache_write_per_million,
        cache_write_tokens=usage.cache_creation_input_tokens,
        tier_threshold_tokens=rates.tier_threshold_tokens,
        tier_applied=rates.tier_applied,
    )

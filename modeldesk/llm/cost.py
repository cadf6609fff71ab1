"""What a call cost, in exact decimals, and the snapshot of prices that said so.

Prices are USD per million tokens. Nothing here touches float: a float price
such as 0.1 is not 0.1, and run totals summed from thousands of calls would
drift. Amounts keep full precision; rounding is for display only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from typing import Any

from modeldesk.config import Settings
from modeldesk.llm.types import Usage

logger = logging.getLogger(__name__)

_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class PriceQuote:
    """The prices in force for a model at call time; None marks a missing price."""

    input_per_million: Decimal | None
    output_per_million: Decimal | None
    cached_input_per_million: Decimal | None = None
    price_version_id: int | None = None


def compute_cost(
    *,
    input_tokens: int,
    output_tokens: int,
    input_price: Decimal,
    output_price: Decimal,
    cached_input_tokens: int = 0,
    cached_input_price: Decimal | None = None,
) -> Decimal:
    """`input * input price / 1e6 + output * output price / 1e6`, exactly.

    Cached tokens are part of `input_tokens`: with a cached price they are
    charged at it and the rest at the input price, otherwise all input is
    charged at the input price. Reasoning tokens are part of `output_tokens`
    and so are not a parameter at all.
    """
    for price in (input_price, output_price, cached_input_price):
        if price is not None and (not isinstance(price, Decimal) or price < 0):
            raise ValueError(f"prices must be non-negative Decimals, got {price!r}")
    if min(input_tokens, output_tokens, cached_input_tokens) < 0:
        raise ValueError("token counts must be >= 0")
    if cached_input_tokens > input_tokens:
        raise ValueError("cached input tokens are a part of input tokens and cannot exceed them")
    with localcontext() as ctx:
        # Products of integers and finite decimals are exact given enough
        # digits; trapping Inexact turns any silent rounding into a loud bug.
        ctx.prec = 120
        ctx.traps[Inexact] = True
        if cached_input_price is None:
            input_cost = input_tokens * input_price
        else:
            input_cost = (
                input_tokens - cached_input_tokens
            ) * input_price + cached_input_tokens * cached_input_price
        return (input_cost + output_tokens * output_price) / _MILLION


@dataclass(frozen=True)
class CostSnapshot:
    """The prices and counts a transcript's cost was computed from, stored with it.

    Reading a run's cost from snapshots (never from current prices) is what
    keeps it unchanged after a price edit.
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

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form; decimals as plain-notation strings so no digit is lost."""
        return {
            "priceVersionId": self.price_version_id,
            "costInputPerMillion": _dec_str(self.input_price),
            "costOutputPerMillion": _dec_str(self.output_price),
            "costCachedInputPerMillion": (
                None if self.cached_input_price is None else _dec_str(self.cached_input_price)
            ),
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "cachedInputTokens": self.cached_input_tokens,
            "reasoningTokens": self.reasoning_tokens,
            "estimatedCost": _dec_str(self.cost),
            "unpriced": self.unpriced,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CostSnapshot:
        cached = data.get("costCachedInputPerMillion")
        version = data.get("priceVersionId")
        return cls(
            price_version_id=None if version is None else int(version),
            input_price=Decimal(data["costInputPerMillion"]),
            output_price=Decimal(data["costOutputPerMillion"]),
            cached_input_price=None if cached is None else Decimal(cached),
            input_tokens=int(data["inputTokens"]),
            output_tokens=int(data["outputTokens"]),
            cached_input_tokens=int(data.get("cachedInputTokens", 0)),
            reasoning_tokens=int(data.get("reasoningTokens", 0)),
            cost=Decimal(data["estimatedCost"]),
            unpriced=bool(data.get("unpriced", False)),
        )


def _dec_str(value: Decimal) -> str:
    return format(value, "f")


def fallback_quote(
    provider_input: Decimal | None, provider_output: Decimal | None, settings: Settings
) -> PriceQuote:
    """What a side without a model price is charged: the provider's default, else the setting."""
    return PriceQuote(
        settings.fallback_input_price if provider_input is None else provider_input,
        settings.fallback_output_price if provider_output is None else provider_output,
    )


def charged_prices(prices: PriceQuote, fallback: PriceQuote) -> tuple[Decimal, Decimal, bool]:
    """The input and output prices charged, and whether either came from `fallback` (unpriced)."""
    unpriced = prices.input_per_million is None or prices.output_per_million is None
    return (
        _first_price(prices.input_per_million, fallback.input_per_million),
        _first_price(prices.output_per_million, fallback.output_per_million),
        unpriced,
    )


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
    input_price, output_price, unpriced = charged_prices(prices, fallback)
    if unpriced:
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
    cost = compute_cost(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        input_price=input_price,
        output_price=output_price,
        cached_input_tokens=usage.cached_input_tokens,
        cached_input_price=prices.cached_input_per_million,
    )
    return CostSnapshot(
        price_version_id=prices.price_version_id,
        input_price=input_price,
        output_price=output_price,
        cached_input_price=prices.cached_input_per_million,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        cost=cost,
        unpriced=unpriced,
    )


def _first_price(price: Decimal | None, fallback: Decimal | None) -> Decimal:
    chosen = price if price is not None else fallback
    if chosen is None:
        raise ValueError("fallback prices must give both an input and an output price")
    return chosen

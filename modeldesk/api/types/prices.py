"""A price set as GraphQL sees it: the model's, a version's, or a proposal's current and proposed.

Prices leave the services as exact Decimals and become JSON numbers only here.
"""

from __future__ import annotations

from decimal import Decimal

import strawberry

from modeldesk.llm import LongContextTier, PriceQuote


def price(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(
    name="LongContextTier",
    description="Prices for a call whose prompt (cache reads and writes included) is more than "
    "thresholdTokens; a null price keeps the base price of that kind.",
)
class LongContextTierType:
    threshold_tokens: int
    cost_input_per_million: float | None
    cost_cached_input_per_million: float | None
    cost_cache_write_per_million: float | None
    cost_output_per_million: float | None

    @classmethod
    def from_tier(cls, tier: LongContextTier | None) -> LongContextTierType | None:
        if tier is None:
            return None
        return cls(
            threshold_tokens=tier.threshold_tokens,
            cost_input_per_million=price(tier.input_per_million),
            cost_cached_input_per_million=price(tier.cached_input_per_million),
            cost_cache_write_per_million=price(tier.cache_write_per_million),
            cost_output_per_million=price(tier.output_per_million),
        )


@strawberry.type(
    name="ModelPrices",
    description="A full price set, USD per million tokens. A null cached-input or cache-write "
    "price bills those tokens as input; a null input or output price is unpriced.",
)
class ModelPricesType:
    cost_input_per_million: float | None
    cost_output_per_million: float | None
    cost_cached_input_per_million: float | None
    cost_cache_write_per_million: float | None
    long_context_tier: LongContextTierType | None

    @classmethod
    def from_quote(cls, prices: PriceQuote) -> ModelPricesType:
        return cls(
            cost_input_per_million=price(prices.input_per_million),
            cost_output_per_million=price(prices.output_per_million),
            cost_cached_input_per_million=price(prices.cached_input_per_million),
            cost_cache_write_per_million=price(prices.cache_write_per_million),
            long_context_tier=LongContextTierType.from_tier(prices.long_context_tier),
        )

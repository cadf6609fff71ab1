"""The model forms' price inputs beyond input/output/cached: cache write and the
long-context tier, and the Models page's "price differs from the reference" marks.

Input names are the API's field names (`longContextTier.thresholdTokens`, ...),
so a service's error lands next to its input.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from fastapi import Request

from modeldesk.catalog import clean_long_context_tier, review_prices
from modeldesk.db.session import Database
from modeldesk.errors import ModeldeskError
from modeldesk.llm import LongContextTier, PriceQuote
from modeldesk.web.dependencies import app_context

logger = logging.getLogger(__name__)

CACHE_WRITE_INPUT = "costCacheWritePerMillion"
TIER_INPUTS = (
    "longContextTier.thresholdTokens",
    "longContextTier.costInputPerMillion",
    "longContextTier.costCachedInputPerMillion",
    "longContextTier.costCacheWritePerMillion",
    "longContextTier.costOutputPerMillion",
)
# What the Add and Edit model forms submit on top of their own fields.
PRICE_INPUTS = (CACHE_WRITE_INPUT, *TIER_INPUTS)


def tier_from_form(values: dict[str, str]) -> LongContextTier | None:
    """The submitted tier; all of its inputs empty means no tier."""
    threshold, input_price, cached, cache_write, output = (values[name] for name in TIER_INPUTS)
    return clean_long_context_tier(
        threshold_tokens=threshold,
        input_per_million=input_price,
        cached_input_per_million=cached,
        cache_write_per_million=cache_write,
        output_per_million=output,
    )


def _text(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value.normalize():f}"


def price_values(prices: PriceQuote) -> dict[str, str]:
    """A price set as the model forms' input values."""
    values = {
        "costInputPerMillion": _text(prices.input_per_million),
        "costOutputPerMillion": _text(prices.output_per_million),
        "costCachedInputPerMillion": _text(prices.cached_input_per_million),
        CACHE_WRITE_INPUT: _text(prices.cache_write_per_million),
    }
    tier = prices.long_context_tier
    tier_values: tuple[Decimal | int | None, ...] = (None,) * len(TIER_INPUTS)
    if tier is not None:
        tier_values = (
            tier.threshold_tokens,
            tier.input_per_million,
            tier.cached_input_per_million,
            tier.cache_write_per_million,
            tier.output_per_million,
        )
    values.update(
        {name: _text(value) for name, value in zip(TIER_INPUTS, tier_values, strict=True)}
    )
    return values


async def differing_model_ids(request: Request, db: Database) -> set[int]:
    """Models whose prices differ from the reference; none when it cannot be read, so the
    Models page still shows (the Prices page reports why)."""
    try:
        review = await review_prices(db, app_context(request).settings)
    except ModeldeskError as exc:
        logger.warning("Models page: reference prices unavailable, no model marked: %s", exc)
        return set()
    return {proposal.model.id for proposal in review.proposals}

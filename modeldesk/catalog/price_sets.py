"""A model's (or price version's) price columns as one `PriceQuote`, and back.

The columns are `tables.PRICE_COLUMNS`, the same on models and on price
versions; the probe claim reads them from a raw row, the estimate and the
proposals from ORM rows, and all of them price calls by the same `PriceQuote`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modeldesk.db.tables import PRICE_COLUMNS, LlmModel, LlmModelPriceVersion
from modeldesk.llm import LongContextTier, PriceQuote


def quote_from_columns(
    values: Mapping[str, Any], *, price_version_id: int | None = None
) -> PriceQuote:
    """`values` maps each of PRICE_COLUMNS to its value (a row, or a dict of one)."""
    threshold = values["long_context_threshold"]
    tier = None
    if threshold is not None:
        tier = LongContextTier(
            threshold_tokens=int(threshold),
            input_per_million=values["long_context_cost_input_per_million"],
            cached_input_per_million=values["long_context_cost_cached_input_per_million"],
            cache_write_per_million=values["long_context_cost_cache_write_per_million"],
            output_per_million=values["long_context_cost_output_per_million"],
        )
    return PriceQuote(
        input_per_million=values["cost_input_per_million"],
        output_per_million=values["cost_output_per_million"],
        cached_input_per_million=values["cost_cached_input_per_million"],
        price_version_id=price_version_id,
        cache_write_per_million=values["cost_cache_write_per_million"],
        long_context_tier=tier,
    )


def quote_of(row: LlmModel | LlmModelPriceVersion) -> PriceQuote:
    """The prices a model (or one of its versions) holds."""
    values = {column: getattr(row, column) for column in PRICE_COLUMNS}
    version_id = row.id if isinstance(row, LlmModelPriceVersion) else None
    return quote_from_columns(values, price_version_id=version_id)


def tier_columns(tier: LongContextTier | None) -> dict[str, Any]:
    """The long-context columns that hold `tier` (all null without one)."""
    return {
        "long_context_threshold": None if tier is None else tier.threshold_tokens,
        "long_context_cost_input_per_million": None if tier is None else tier.input_per_million,
        "long_context_cost_cached_input_per_million": (
            None if tier is None else tier.cached_input_per_million
        ),
        "long_context_cost_cache_write_per_million": (
            None if tier is None else tier.cache_write_per_million
        ),
        "long_context_cost_output_per_million": None if tier is None else tier.output_per_million,
    }


def columns_of(quote: PriceQuote) -> dict[str, Any]:
    """The column values that hold `quote`, for writing it onto a model."""
    return {
        "cost_input_per_million": quote.input_per_million,
        "cost_output_per_million": quote.output_per_million,
        "cost_cached_input_per_million": quote.cached_input_per_million,
        "cost_cache_write_per_million": quote.cache_write_per_million,
        **tier_columns(quote.long_context_tier),
    }

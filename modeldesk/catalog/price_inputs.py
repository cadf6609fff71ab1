"""Validated long-context tiers, as the API and the UI submit them.

Field names are the API's (`longContextTier.thresholdTokens`, ...); the UI's
inputs carry the same names, so an error lands next to its input in both.
"""

from __future__ import annotations

from typing import Any

from modeldesk.catalog.inputs import clean_limit, clean_price
from modeldesk.errors import ValidationError
from modeldesk.llm import LongContextTier

TIER_FIELD = "longContextTier"
THRESHOLD_FIELD = f"{TIER_FIELD}.thresholdTokens"
# Prompts this long are far past any model's context window; a typo, not a tier.
MAX_THRESHOLD_TOKENS = 100_000_000


def clean_long_context_tier(
    *,
    threshold_tokens: Any,
    input_per_million: Any = None,
    cached_input_per_million: Any = None,
    cache_write_per_million: Any = None,
    output_per_million: Any = None,
) -> LongContextTier | None:
    """A tier, or None when nothing is given; a price left empty keeps the base price."""
    prices = {
        "costInputPerMillion": input_per_million,
        "costCachedInputPerMillion": cached_input_per_million,
        "costCacheWritePerMillion": cache_write_per_million,
        "costOutputPerMillion": output_per_million,
    }
    cleaned = {name: clean_price(value, f"{TIER_FIELD}.{name}") for name, value in prices.items()}
    given = any(price is not None for price in cleaned.values())
    if threshold_tokens is None or threshold_tokens == "":
        if given:
            raise ValidationError(
                "A long-context tier needs the prompt size above which its prices apply.",
                field=THRESHOLD_FIELD,
            )
        return None
    threshold = clean_limit(threshold_tokens, THRESHOLD_FIELD)
    if not 0 < threshold <= MAX_THRESHOLD_TOKENS:
        raise ValidationError(
            f"{THRESHOLD_FIELD} must be between 1 and {MAX_THRESHOLD_TOKENS:,} tokens.",
            field=THRESHOLD_FIELD,
        )
    if not given:
        raise ValidationError(
            "A long-context tier needs at least one price of its own.",
            field=f"{TIER_FIELD}.costInputPerMillion",
        )
    return LongContextTier(
        threshold_tokens=threshold,
        input_per_million=cleaned["costInputPerMillion"],
        cached_input_per_million=cleaned["costCachedInputPerMillion"],
        cache_write_per_million=cleaned["costCacheWritePerMillion"],
        output_per_million=cleaned["costOutputPerMillion"],
    )

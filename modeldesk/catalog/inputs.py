"""Validated inputs for catalogue changes.

Both front ends build these, so a rule such as "prices are >= 0" or "names are at
most 200 characters" is written once and reported with the field at fault. Every
text field here is single-line and goes through `input_rules.clean_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from modeldesk.config import ENV_VAR_NAME
from modeldesk.enums import ApiStyle
from modeldesk.errors import ValidationError
from modeldesk.input_rules import clean_id, clean_text, echoed
from modeldesk.llm import LongContextTier

MAX_LIMIT = 1_000_000
# A new provider's limits when none are given (SPEC 1); the table's server defaults agree.
DEFAULT_MAX_PARALLEL_REQUESTS = 1
DEFAULT_REQUESTS_PER_MINUTE = 60
MAX_PRICE = Decimal("1000000")
# The price columns are NUMERIC with no declared scale, so the bound is ours: a
# trillionth of a dollar per million tokens is far finer than any provider bills,
# and an unbounded fraction (1E-20000) would overflow NUMERIC in the driver.
MAX_PRICE_DECIMALS = 12
# The API's names for a provider's default prices, named in validation errors.
DEFAULT_INPUT_PRICE_FIELD = "defaultCostInputPerMillion"
DEFAULT_OUTPUT_PRICE_FIELD = "defaultCostOutputPerMillion"
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def clean_price(value: Any, field: str) -> Decimal | None:
    """A price per million tokens: a finite decimal >= 0, or None for "not recorded"."""
    if value is None or value == "":
        return None
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(
            f"{field} must be a number, got {echoed(value)}.", field=field
        ) from exc
    if not price.is_finite():
        raise ValidationError(f"{field} must be a finite number.", field=field)
    if price < 0:
        raise ValidationError(f"{field} must be 0 or more (got {echoed(price)}).", field=field)
    if price > MAX_PRICE:
        raise ValidationError(f"{field} must be at most {MAX_PRICE}.", field=field)
    if _decimal_places(price) > MAX_PRICE_DECIMALS:
        raise ValidationError(
            f"{field} may have at most {MAX_PRICE_DECIMALS} decimal places (got {echoed(price)}).",
            field=field,
        )
    return price


def _decimal_places(price: Decimal) -> int:
    """Places after the point that carry a digit: "2.50" has 1, "2" and "0.000" have 0."""
    if not price:
        return 0
    _, digits, exponent = price.as_tuple()
    assert isinstance(exponent, int)  # a finite decimal
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing_zeros))


def clean_limit(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{field} must be a whole number.", field=field)
    try:
        limit = int(str(value).strip())
    except ValueError as exc:
        raise ValidationError(
            f"{field} must be a whole number, got {echoed(value)}.", field=field
        ) from exc
    if limit < 0:
        raise ValidationError(f"{field} must be 0 or more (got {echoed(limit)}).", field=field)
    if limit > MAX_LIMIT:
        raise ValidationError(f"{field} must be at most {MAX_LIMIT}.", field=field)
    return limit


def clean_reference_provider(value: str | None) -> str | None:
    """A genai-prices provider id (e.g. x-ai); None or blank means the provider's own name."""
    if value is None or not value.strip():
        return None
    name = clean_text(value, "referenceProvider", max_length=100).lower()
    if not _PROVIDER_NAME.match(name):
        raise ValidationError(
            "referenceProvider may hold only lowercase letters, digits, '.', '_' and '-'.",
            field="referenceProvider",
        )
    return name


def clean_base_url(value: str | None, field: str = "baseUrl") -> str | None:
    if value is None or not value.strip():
        return None
    url = clean_text(value, field, max_length=500).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValidationError(f"{field} must start with http:// or https://.", field=field)
    return url


@dataclass(frozen=True)
class ModelCreate:
    provider_id: int
    model_id: str
    display_name: str
    cost_input_per_million: Decimal | None
    cost_output_per_million: Decimal | None
    set_as_default: bool = False
    cost_cached_input_per_million: Decimal | None = None
    cost_cache_write_per_million: Decimal | None = None
    # Prices above a prompt size (see `llm.prices`), checked by `price_inputs`.
    long_context_tier: LongContextTier | None = None

    @classmethod
    def parse(
        cls,
        *,
        provider_id: Any,
        model_id: str,
        display_name: str,
        cost_input_per_million: Any,
        cost_output_per_million: Any,
        set_as_default: bool = False,
        cost_cached_input_per_million: Any = None,
        cost_cache_write_per_million: Any = None,
        long_context_tier: LongContextTier | None = None,
    ) -> ModelCreate:
        return cls(
            provider_id=clean_id(provider_id, "providerId"),
            model_id=clean_text(model_id, "modelId"),
            display_name=clean_text(display_name, "displayName"),
            cost_input_per_million=clean_price(cost_input_per_million, "costInputPerMillion"),
            cost_output_per_million=clean_price(cost_output_per_million, "costOutputPerMillion"),
            set_as_default=bool(set_as_default),
            cost_cached_input_per_million=clean_price(
                cost_cached_input_per_million, "costCachedInputPerMillion"
            ),
            cost_cache_write_per_million=clean_price(
                cost_cache_write_per_million, "costCacheWritePerMillion"
            ),
            long_context_tier=long_context_tier,
        )


@dataclass(frozen=True)
class ModelUpdate:
    """Only what may change after creation; the model id never does."""

    display_name: str | None = None
    cost_input_per_million: Decimal | None = None
    cost_output_per_million: Decimal | None = None
    cost_cached_input_per_million: Decimal | None = None
    cost_cache_write_per_million: Decimal | None = None
    long_context_tier: LongContextTier | None = None
    # The tier needs its own flag, as the base URL does: None leaves it, clearing removes it.
    clear_long_context_tier: bool = False

    @classmethod
    def parse(
        cls,
        *,
        display_name: str | None = None,
        cost_input_per_million: Any = None,
        cost_output_per_million: Any = None,
        cost_cached_input_per_million: Any = None,
        cost_cache_write_per_million: Any = None,
        long_context_tier: LongContextTier | None = None,
        clear_long_context_tier: bool = False,
    ) -> ModelUpdate:
        return cls(
            display_name=None if display_name is None else clean_text(display_name, "displayName"),
            cost_input_per_million=clean_price(cost_input_per_million, "costInputPerMillion"),
            cost_output_per_million=clean_price(cost_output_per_million, "costOutputPerMillion"),
            cost_cached_input_per_million=clean_price(
                cost_cached_input_per_million, "costCachedInputPerMillion"
            ),
            cost_cache_write_per_million=clean_price(
                cost_cache_write_per_million, "costCacheWritePerMillion"
            ),
            long_context_tier=long_context_tier,
            clear_long_context_tier=clear_long_context_tier and long_context_tier is None,
        )


@dataclass(frozen=True)
class ProviderCreate:
    name: str
    display_name: str
    api_style: ApiStyle
    base_url: str | None
    api_key_env: str | None
    max_parallel_requests: int = DEFAULT_MAX_PARALLEL_REQUESTS
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    # What a model of this provider with no price of its own is charged (None: the settings').
    default_input_price: Decimal | None = None
    default_output_price: Decimal | None = None
    # The genai-prices provider whose prices it charges; None: its own name.
    reference_provider: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        name: str,
        display_name: str,
        api_style: ApiStyle | str,
        base_url: str | None = None,
        api_key_env: str | None = None,
        max_parallel_requests: Any = DEFAULT_MAX_PARALLEL_REQUESTS,
        requests_per_minute: Any = DEFAULT_REQUESTS_PER_MINUTE,
        default_input_price: Any = None,
        default_output_price: Any = None,
        reference_provider: str | None = None,
    ) -> ProviderCreate:
        clean_name = clean_text(name, "name").lower()
        if not _PROVIDER_NAME.match(clean_name):
            raise ValidationError(
                "name may hold only lowercase letters, digits, '.', '_' and '-'.", field="name"
            )
        try:
            style = ApiStyle(api_style)
        except ValueError as exc:
            raise ValidationError(
                f"apiStyle must be one of {', '.join(ApiStyle)}.", field="apiStyle"
            ) from exc
        env_var = None
        if api_key_env is not None and api_key_env.strip():
            env_var = clean_text(api_key_env, "apiKeyEnv")
            if not ENV_VAR_NAME.match(env_var):
                raise ValidationError(
                    "apiKeyEnv must be an environment variable name.", field="apiKeyEnv"
                )
        return cls(
            name=clean_name,
            display_name=clean_text(display_name, "displayName"),
            api_style=style,
            base_url=clean_base_url(base_url),
            api_key_env=env_var,
            max_parallel_requests=clean_limit(max_parallel_requests, "maxParallelRequests"),
            requests_per_minute=clean_limit(requests_per_minute, "requestsPerMinute"),
            default_input_price=clean_price(default_input_price, DEFAULT_INPUT_PRICE_FIELD),
            default_output_price=clean_price(default_output_price, DEFAULT_OUTPUT_PRICE_FIELD),
            reference_provider=clean_reference_provider(reference_provider),
        )


@dataclass(frozen=True)
class ProviderUpdate:
    max_parallel_requests: int | None = None
    requests_per_minute: int | None = None
    is_enabled: bool | None = None
    base_url: str | None = None
    # The base URL needs its own flag: None means "leave it", clearing means "use the default".
    clear_base_url: bool = False
    display_name: str | None = None
    # None leaves the provider's default price as it is.
    default_input_price: Decimal | None = None
    default_output_price: Decimal | None = None
    # None leaves it; clearing goes back to the provider's own name.
    reference_provider: str | None = None
    clear_reference_provider: bool = False

    @classmethod
    def parse(
        cls,
        *,
        max_parallel_requests: Any = None,
        requests_per_minute: Any = None,
        is_enabled: bool | None = None,
        base_url: str | None = None,
        display_name: str | None = None,
        default_input_price: Any = None,
        default_output_price: Any = None,
        reference_provider: str | None = None,
    ) -> ProviderUpdate:
        return cls(
            max_parallel_requests=None
            if max_parallel_requests is None
            else clean_limit(max_parallel_requests, "maxParallelRequests"),
            requests_per_minute=None
            if requests_per_minute is None
            else clean_limit(requests_per_minute, "requestsPerMinute"),
            is_enabled=is_enabled,
            base_url=clean_base_url(base_url) if base_url is not None else None,
            clear_base_url=base_url is not None and not base_url.strip(),
            display_name=None if display_name is None else clean_text(display_name, "displayName"),
            default_input_price=clean_price(default_input_price, DEFAULT_INPUT_PRICE_FIELD),
            default_output_price=clean_price(default_output_price, DEFAULT_OUTPUT_PRICE_FIELD),
            reference_provider=clean_reference_provider(reference_provider),
            clear_reference_provider=(
                reference_provider is not None and not reference_provider.strip()
            ),
        )

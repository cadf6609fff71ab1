"""Validated inputs for catalogue changes.

Both front ends build these, so a rule such as "prices are >= 0" or "names are at
most 200 characters" is written once and reported with the field at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from modeldesk.enums import ApiStyle
from modeldesk.errors import ValidationError

MAX_TEXT = 200
MAX_LIMIT = 1_000_000
MAX_PRICE = Decimal("1000000")
_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def clean_text(value: str, field: str, *, max_length: int = MAX_TEXT) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValidationError(f"{field} must not be empty.", field=field)
    if len(cleaned) > max_length:
        raise ValidationError(
            f"{field} must be at most {max_length} characters (got {len(cleaned)}).", field=field
        )
    return cleaned


def clean_price(value: Any, field: str) -> Decimal | None:
    """A price per million tokens: a finite decimal >= 0, or None for "not recorded"."""
    if value is None or value == "":
        return None
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(f"{field} must be a number, got {value!r}.", field=field) from exc
    if not price.is_finite():
        raise ValidationError(f"{field} must be a finite number.", field=field)
    if price < 0:
        raise ValidationError(f"{field} must be 0 or more (got {price}).", field=field)
    if price > MAX_PRICE:
        raise ValidationError(f"{field} must be at most {MAX_PRICE}.", field=field)
    return price


def clean_limit(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{field} must be a whole number.", field=field)
    try:
        limit = int(str(value).strip())
    except ValueError as exc:
        raise ValidationError(
            f"{field} must be a whole number, got {value!r}.", field=field
        ) from exc
    if limit < 0:
        raise ValidationError(f"{field} must be 0 or more (got {limit}).", field=field)
    if limit > MAX_LIMIT:
        raise ValidationError(f"{field} must be at most {MAX_LIMIT}.", field=field)
    return limit


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
    ) -> ModelCreate:
        return cls(
            provider_id=clean_limit(provider_id, "providerId"),
            model_id=clean_text(model_id, "modelId"),
            display_name=clean_text(display_name, "displayName"),
            cost_input_per_million=clean_price(cost_input_per_million, "costInputPerMillion"),
            cost_output_per_million=clean_price(cost_output_per_million, "costOutputPerMillion"),
            set_as_default=bool(set_as_default),
            cost_cached_input_per_million=clean_price(
                cost_cached_input_per_million, "costCachedInputPerMillion"
            ),
        )


@dataclass(frozen=True)
class ModelUpdate:
    """Only what may change after creation; the model id never does."""

    display_name: str | None = None
    cost_input_per_million: Decimal | None = None
    cost_output_per_million: Decimal | None = None

    @classmethod
    def parse(
        cls,
        *,
        display_name: str | None = None,
        cost_input_per_million: Any = None,
        cost_output_per_million: Any = None,
    ) -> ModelUpdate:
        return cls(
            display_name=None if display_name is None else clean_text(display_name, "displayName"),
            cost_input_per_million=clean_price(cost_input_per_million, "costInputPerMillion"),
            cost_output_per_million=clean_price(cost_output_per_million, "costOutputPerMillion"),
        )


@dataclass(frozen=True)
class ProviderCreate:
    name: str
    display_name: str
    api_style: ApiStyle
    base_url: str | None
    api_key_env: str | None
    max_parallel_requests: int = 1
    requests_per_minute: int = 60

    @classmethod
    def parse(
        cls,
        *,
        name: str,
        display_name: str,
        api_style: ApiStyle | str,
        base_url: str | None = None,
        api_key_env: str | None = None,
        max_parallel_requests: Any = 1,
        requests_per_minute: Any = 60,
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
            if not _ENV_VAR.match(env_var):
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

    @classmethod
    def parse(
        cls,
        *,
        max_parallel_requests: Any = None,
        requests_per_minute: Any = None,
        is_enabled: bool | None = None,
        base_url: str | None = None,
        display_name: str | None = None,
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
        )

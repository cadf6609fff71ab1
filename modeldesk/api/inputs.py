"""GraphQL input types, and their conversion into the catalogue's validated inputs.

Prices arrive as JSON numbers (floats); they go through `str()` before becoming
Decimals, so 0.1 stays exactly 0.1 instead of a binary fraction. Every rule
(ranges, lengths, names) is the service's `*.parse`, reported with the field.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from modeldesk import catalog
from modeldesk.api.ids import parse_id
from modeldesk.catalog import clean_long_context_tier, model_create_from_reference
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.enums import ApiStyle, Role
from modeldesk.errors import ValidationError
from modeldesk.llm import LongContextTier

CACHED_INPUT_PRICE = (
    "USD per million cached (cache-read) input tokens; without it they are charged as input."
)
REFERENCE_PROVIDER = (
    "The genai-prices provider whose prices this provider charges (e.g. x-ai for xai, or the "
    "provider a compatible server resells), for price proposals."
)
DEFAULT_INPUT_PRICE = (
    "USD per million input tokens charged for this provider's models that have no input "
    "price; without it, the server's configured fallback."
)
DEFAULT_OUTPUT_PRICE = (
    "USD per million output tokens charged for this provider's models that have no output "
    "price; without it, the server's configured fallback."
)


CACHE_WRITE_PRICE = (
    "USD per million input tokens written to the provider's cache; without it they are "
    "charged as input."
)
FROM_REFERENCE = (
    "Take the display name (unless given) and every price, long-context tier included, from "
    "the reference prices' model matching modelId; VALIDATION_ERROR if it knows none."
)


def _exact(value: float | None) -> str | None:
    return None if value is None else str(value)


@strawberry.input(
    description="Prices for a call whose prompt (cache reads and writes included) is more than "
    "thresholdTokens; a price left out keeps the base price of that kind."
)
class LongContextTierInput:
    threshold_tokens: int
    cost_input_per_million: float | None = None
    cost_cached_input_per_million: float | None = None
    cost_cache_write_per_million: float | None = None
    cost_output_per_million: float | None = None

    def parse(self) -> LongContextTier | None:
        return clean_long_context_tier(
            threshold_tokens=self.threshold_tokens,
            input_per_million=_exact(self.cost_input_per_million),
            cached_input_per_million=_exact(self.cost_cached_input_per_million),
            cache_write_per_million=_exact(self.cost_cache_write_per_million),
            output_per_million=_exact(self.cost_output_per_million),
        )


@strawberry.input
class CreateLlmModelInput:
    provider_id: strawberry.ID
    model_id: str
    display_name: str | None = strawberry.field(
        default=None, description="Required unless fromReference names it."
    )
    cost_input_per_million: float | None = None
    cost_output_per_million: float | None = None
    set_as_default: bool = False
    cost_cached_input_per_million: float | None = strawberry.field(
        default=None, description=CACHED_INPUT_PRICE
    )
    cost_cache_write_per_million: float | None = strawberry.field(
        default=None, description=CACHE_WRITE_PRICE
    )
    long_context_tier: LongContextTierInput | None = None
    from_reference: bool = strawberry.field(default=False, description=FROM_REFERENCE)

    async def to_model_create(self, db: Database, settings: Settings) -> catalog.ModelCreate:
        """The model to create: as given, or named and priced from the reference."""
        if not self.from_reference:
            return self.parse()
        prices = (
            self.cost_input_per_million,
            self.cost_output_per_million,
            self.cost_cached_input_per_million,
            self.cost_cache_write_per_million,
            self.long_context_tier,
        )
        if any(price is not None for price in prices):
            raise ValidationError("Give prices or fromReference, not both.", field="fromReference")
        return await model_create_from_reference(
            db,
            settings,
            provider_id=parse_id(self.provider_id, "providerId"),
            model_id=self.model_id,
            display_name=self.display_name,
            set_as_default=self.set_as_default,
        )

    def parse(self) -> catalog.ModelCreate:
        tier = self.long_context_tier
        return catalog.ModelCreate.parse(
            provider_id=parse_id(self.provider_id, "providerId"),
            model_id=self.model_id,
            display_name=self.display_name or "",
            cost_input_per_million=_exact(self.cost_input_per_million),
            cost_output_per_million=_exact(self.cost_output_per_million),
            set_as_default=self.set_as_default,
            cost_cached_input_per_million=_exact(self.cost_cached_input_per_million),
            cost_cache_write_per_million=_exact(self.cost_cache_write_per_million),
            long_context_tier=tier.parse() if tier else None,
        )


@strawberry.input(description="Only what may change after creation; the model id never does.")
class UpdateLlmModelInput:
    display_name: str | None = None
    cost_input_per_million: float | None = None
    cost_output_per_million: float | None = None
    cost_cached_input_per_million: float | None = strawberry.field(
        default=None, description=CACHED_INPUT_PRICE
    )
    cost_cache_write_per_million: float | None = strawberry.field(
        default=None, description=CACHE_WRITE_PRICE
    )
    long_context_tier: LongContextTierInput | None = strawberry.field(
        default=strawberry.UNSET, description="Left out: unchanged; null: the tier is removed."
    )

    def parse(self) -> catalog.ModelUpdate:
        tier = self.long_context_tier
        return catalog.ModelUpdate.parse(
            display_name=self.display_name,
            cost_input_per_million=_exact(self.cost_input_per_million),
            cost_output_per_million=_exact(self.cost_output_per_million),
            cost_cached_input_per_million=_exact(self.cost_cached_input_per_million),
            cost_cache_write_per_million=_exact(self.cost_cache_write_per_million),
            long_context_tier=tier.parse() if tier else None,
            clear_long_context_tier=tier is None,
        )


@strawberry.input
class UpdateLlmProviderInput:
    max_parallel_requests: int | None = None
    requests_per_minute: int | None = None
    is_enabled: bool | None = None
    base_url: str | None = strawberry.field(
        default=None, description="An empty string goes back to the provider's default URL."
    )
    display_name: str | None = None
    default_cost_input_per_million: float | None = strawberry.field(
        default=None, description=DEFAULT_INPUT_PRICE
    )
    default_cost_output_per_million: float | None = strawberry.field(
        default=None, description=DEFAULT_OUTPUT_PRICE
    )
    reference_provider: str | None = strawberry.field(
        default=None, description=REFERENCE_PROVIDER + " An empty string goes back to its name."
    )

    def parse(self) -> catalog.ProviderUpdate:
        return catalog.ProviderUpdate.parse(
            max_parallel_requests=self.max_parallel_requests,
            requests_per_minute=self.requests_per_minute,
            is_enabled=self.is_enabled,
            base_url=self.base_url,
            display_name=self.display_name,
            default_input_price=_exact(self.default_cost_input_per_million),
            default_output_price=_exact(self.default_cost_output_per_million),
            reference_provider=self.reference_provider,
        )


@strawberry.input
class CreateLlmProviderInput:
    name: str
    display_name: str
    api_style: ApiStyle
    base_url: str | None = None
    api_key_env: str | None = None
    max_parallel_requests: int = catalog.DEFAULT_MAX_PARALLEL_REQUESTS
    requests_per_minute: int = catalog.DEFAULT_REQUESTS_PER_MINUTE
    default_cost_input_per_million: float | None = strawberry.field(
        default=None, description=DEFAULT_INPUT_PRICE
    )
    default_cost_output_per_million: float | None = strawberry.field(
        default=None, description=DEFAULT_OUTPUT_PRICE
    )
    reference_provider: str | None = strawberry.field(
        default=None, description=REFERENCE_PROVIDER + " Default: the provider's name."
    )

    def parse(self) -> catalog.ProviderCreate:
        return catalog.ProviderCreate.parse(
            name=self.name,
            display_name=self.display_name,
            api_style=self.api_style,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            max_parallel_requests=self.max_parallel_requests,
            requests_per_minute=self.requests_per_minute,
            default_input_price=_exact(self.default_cost_input_per_million),
            default_output_price=_exact(self.default_cost_output_per_million),
            reference_provider=self.reference_provider,
        )


@strawberry.input(description="A JSON value, or a string holding JSON.")
class UpdateSystemSettingInput:
    key: str
    value: JSON


@strawberry.input
class CreateApiTokenInput:
    role: Role
    name: str

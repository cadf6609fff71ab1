"""Providers, models and price versions as GraphQL types.

Scalar fields are copied from the row when the object is built; every nested
field goes through a per-request DataLoader so a list never costs a query per row.
Prices leave the service as exact Decimals and become JSON numbers only here.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from modeldesk import catalog, enums
from modeldesk.api.context import Info
from modeldesk.api.fields import described
from modeldesk.api.ids import to_id
from modeldesk.api.inputs import (
    CACHE_WRITE_PRICE,
    DEFAULT_INPUT_PRICE,
    DEFAULT_OUTPUT_PRICE,
    REFERENCE_PROVIDER,
)
from modeldesk.api.loaders import load_models_of_providers, load_price_history, load_providers
from modeldesk.api.types.prices import LongContextTierType, price
from modeldesk.catalog.price_sets import quote_of
from modeldesk.catalog.reference_prices import reference_provider_of
from modeldesk.db import tables


@strawberry.type(name="LlmModelPriceVersion", description="One period of a model's prices.")
class LlmModelPriceVersionType:
    id: strawberry.ID
    cost_input_per_million: float | None
    cost_output_per_million: float | None
    cost_cached_input_per_million: float | None
    cost_cache_write_per_million: float | None = strawberry.field(description=CACHE_WRITE_PRICE)
    long_context_tier: LongContextTierType | None
    effective_from: datetime
    effective_until: datetime | None

    @classmethod
    def from_row(cls, row: tables.LlmModelPriceVersion) -> LlmModelPriceVersionType:
        return cls(
            id=to_id(row.id),
            cost_input_per_million=price(row.cost_input_per_million),
            cost_output_per_million=price(row.cost_output_per_million),
            cost_cached_input_per_million=price(row.cost_cached_input_per_million),
            cost_cache_write_per_million=price(row.cost_cache_write_per_million),
            long_context_tier=LongContextTierType.from_tier(quote_of(row).long_context_tier),
            effective_from=row.effective_from,
            effective_until=row.effective_until,
        )


@strawberry.type(name="LlmModel")
class LlmModelType:
    id: strawberry.ID
    provider_id: strawberry.ID
    model_id: str
    display_name: str
    cost_input_per_million: float | None
    cost_output_per_million: float | None
    cost_cached_input_per_million: float | None
    cost_cache_write_per_million: float | None = strawberry.field(description=CACHE_WRITE_PRICE)
    long_context_tier: LongContextTierType | None
    status: enums.ModelStatus
    is_default: bool
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[tables.LlmModel]
    # Known when the model was read with its provider; saves a loader round per model.
    provider_row: strawberry.Private[tables.LlmProvider | None] = None

    @classmethod
    def from_row(
        cls, row: tables.LlmModel, provider: tables.LlmProvider | None = None
    ) -> LlmModelType:
        return cls(
            id=to_id(row.id),
            provider_id=to_id(row.provider_id),
            model_id=row.model_id,
            display_name=row.display_name,
            cost_input_per_million=price(row.cost_input_per_million),
            cost_output_per_million=price(row.cost_output_per_million),
            cost_cached_input_per_million=price(row.cost_cached_input_per_million),
            cost_cache_write_per_million=price(row.cost_cache_write_per_million),
            long_context_tier=LongContextTierType.from_tier(quote_of(row).long_context_tier),
            status=enums.ModelStatus(row.status),
            is_default=row.is_default,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
            provider_row=provider,
        )

    @strawberry.field
    async def provider(self, info: Info) -> LlmProviderType:
        return LlmProviderType.from_row(
            await info.context.loader(load_providers).load(self.row.provider_id)
        )

    @described("Whether the provider's API key is configured on this server.", graphql_type=bool)
    def is_available(self, info: Info) -> bool | Awaitable[bool]:
        # Plain when the provider came with the model: in a long list, one awaitable per
        # row is what this field would otherwise cost (GraphQL awaits what it is given).
        if self.provider_row is not None:
            return catalog.provider_has_key(self.provider_row)
        return self._provider_has_key(info)

    async def _provider_has_key(self, info: Info) -> bool:
        provider = await info.context.loader(load_providers).load(self.row.provider_id)
        return catalog.provider_has_key(provider)

    @described("Every price period, newest first.")
    async def price_history(self, info: Info) -> list[LlmModelPriceVersionType]:
        rows = await info.context.loader(load_price_history).load(self.row.id)
        return [LlmModelPriceVersionType.from_row(row) for row in rows]


@strawberry.type(name="LlmProvider")
class LlmProviderType:
    id: strawberry.ID
    name: str
    display_name: str
    max_parallel_requests: int
    requests_per_minute: int
    is_enabled: bool
    api_style: enums.ApiStyle
    base_url: str | None
    # The variable's name only; the key itself never leaves the environment.
    api_key_env: str | None
    default_cost_input_per_million: float | None = strawberry.field(description=DEFAULT_INPUT_PRICE)
    default_cost_output_per_million: float | None = strawberry.field(
        description=DEFAULT_OUTPUT_PRICE
    )
    reference_provider: str = strawberry.field(description=REFERENCE_PROVIDER)
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[tables.LlmProvider]

    @classmethod
    def from_row(cls, row: tables.LlmProvider) -> LlmProviderType:
        return cls(
            id=to_id(row.id),
            name=row.name,
            display_name=row.display_name,
            max_parallel_requests=row.max_parallel_requests,
            requests_per_minute=row.requests_per_minute,
            is_enabled=row.is_enabled,
            api_style=enums.ApiStyle(row.api_style),
            base_url=row.base_url,
            api_key_env=row.api_key_env,
            default_cost_input_per_million=price(row.default_input_price),
            default_cost_output_per_million=price(row.default_output_price),
            reference_provider=reference_provider_of(row),
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @strawberry.field
    def has_api_key(self) -> bool:
        return catalog.provider_has_key(self.row)

    async def _models(self, info: Info) -> list[tables.LlmModel]:
        return await info.context.loader(load_models_of_providers).load(self.row.id)

    @strawberry.field
    async def models(self, info: Info) -> list[LlmModelType]:
        return [LlmModelType.from_row(row, self.row) for row in await self._models(info)]

    @strawberry.field
    async def active_models(self, info: Info) -> list[LlmModelType]:
        return [
            LlmModelType.from_row(row, self.row)
            for row in await self._models(info)
            if row.status == enums.ModelStatus.ACTIVE.value
        ]

    @described("Null when every model of the provider is deprecated.")
    async def default_model(self, info: Info) -> LlmModelType | None:
        rows = await self._models(info)
        return next((LlmModelType.from_row(row, self.row) for row in rows if row.is_default), None)

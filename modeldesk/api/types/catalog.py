"""Providers, models and price versions as GraphQL types.

Scalar fields are copied from the row when the object is built (`object_from_row`,
which also turns Decimal prices into JSON numbers); every nested field goes
through a per-request DataLoader so a list never costs a query per row.
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
from modeldesk.api.row_objects import object_from_row
from modeldesk.api.types.prices import LongContextTierType, price
from modeldesk.catalog import quote_of, reference_provider_of
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
        return object_from_row(
            cls,
            row,
            id=to_id(row.id),
            long_context_tier=LongContextTierType.from_tier(quote_of(row).long_context_tier),
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
        return object_from_row(
            cls,
            row,
            id=to_id(row.id),
            provider_id=to_id(row.provider_id),
            long_context_tier=LongContextTierType.from_tier(quote_of(row).long_context_tier),
            status=enums.ModelStatus(row.status),
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
        return object_from_row(
            cls,
            row,
            id=to_id(row.id),
            api_style=enums.ApiStyle(row.api_style),
            default_cost_input_per_million=price(row.default_input_price),
            default_cost_output_per_million=price(row.default_output_price),
            reference_provider=reference_provider_of(row),
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

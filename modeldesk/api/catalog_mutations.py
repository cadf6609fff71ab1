"""Catalogue changes. Each resolver validates through the service's input parser,
calls the service (which enforces the admin role, audits and bumps the catalogue
version) and wraps the result in the payload the SPEC names.
"""

from __future__ import annotations

import strawberry

from modeldesk import catalog
from modeldesk.api.context import Info
from modeldesk.api.fields import admin_mutation
from modeldesk.api.ids import parse_id
from modeldesk.api.inputs import (
    CreateLlmModelInput,
    CreateLlmProviderInput,
    UpdateLlmModelInput,
    UpdateLlmProviderInput,
    UpdateSystemSettingInput,
)
from modeldesk.api.types.catalog import LlmModelType, LlmProviderType
from modeldesk.api.types.settings import SystemSettingType
from modeldesk.db import tables


def _model_or_none(row: tables.LlmModel | None) -> LlmModelType | None:
    return None if row is None else LlmModelType.from_row(row)


@strawberry.type
class LlmModelPayload:
    model: LlmModelType


@strawberry.type
class DeprecateLlmModelPayload:
    model: LlmModelType
    new_default: LlmModelType | None = strawberry.field(
        description="The model promoted to default; null if it was not the default or none is left."
    )


@strawberry.type
class SetDefaultModelPayload:
    model: LlmModelType
    previous_default: LlmModelType | None


@strawberry.type
class LlmProviderPayload:
    provider: LlmProviderType


@strawberry.type
class SystemSettingPayload:
    setting: SystemSettingType


@strawberry.type
class CatalogMutation:
    @admin_mutation
    async def create_llm_model(self, info: Info, input: CreateLlmModelInput) -> LlmModelPayload:
        ctx = info.context
        data = await input.to_model_create(ctx.db, ctx.app.settings)
        row = await catalog.create_model(ctx.db, ctx.principal, data)
        return LlmModelPayload(model=LlmModelType.from_row(row))

    @admin_mutation
    async def update_llm_model(
        self, info: Info, id: strawberry.ID, input: UpdateLlmModelInput
    ) -> LlmModelPayload:
        ctx = info.context
        row = await catalog.update_model(ctx.db, ctx.principal, parse_id(id), input.parse())
        return LlmModelPayload(model=LlmModelType.from_row(row))

    @admin_mutation
    async def deprecate_llm_model(self, info: Info, id: strawberry.ID) -> DeprecateLlmModelPayload:
        result = await catalog.deprecate_model(
            info.context.db, info.context.principal, parse_id(id)
        )
        return DeprecateLlmModelPayload(
            model=LlmModelType.from_row(result.model),
            new_default=_model_or_none(result.new_default),
        )

    @admin_mutation
    async def reactivate_llm_model(self, info: Info, id: strawberry.ID) -> LlmModelPayload:
        row = await catalog.reactivate_model(info.context.db, info.context.principal, parse_id(id))
        return LlmModelPayload(model=LlmModelType.from_row(row))

    @admin_mutation
    async def set_default_model(self, info: Info, id: strawberry.ID) -> SetDefaultModelPayload:
        result = await catalog.set_default_model(
            info.context.db, info.context.principal, parse_id(id)
        )
        return SetDefaultModelPayload(
            model=LlmModelType.from_row(result.model),
            previous_default=_model_or_none(result.previous_default),
        )

    @admin_mutation
    async def create_llm_provider(
        self, info: Info, input: CreateLlmProviderInput
    ) -> LlmProviderPayload:
        ctx = info.context
        row = await catalog.create_provider(ctx.db, ctx.principal, input.parse())
        return LlmProviderPayload(provider=LlmProviderType.from_row(row))

    @admin_mutation
    async def update_llm_provider(
        self, info: Info, id: strawberry.ID, input: UpdateLlmProviderInput
    ) -> LlmProviderPayload:
        ctx = info.context
        row = await catalog.update_provider(ctx.db, ctx.principal, parse_id(id), input.parse())
        return LlmProviderPayload(provider=LlmProviderType.from_row(row))

    @admin_mutation
    async def update_system_setting(
        self, info: Info, input: UpdateSystemSettingInput
    ) -> SystemSettingPayload:
        ctx = info.context
        row = await catalog.update_setting(ctx.db, ctx.principal, input.key, input.value)
        return SystemSettingPayload(setting=SystemSettingType.from_row(row))

"""Catalogue reads: providers, models, settings, infrastructure models, the audit log.

Lookups are nullable, as the plan's contract has them: nothing matching (an
unknown id, an id no row could have, a key with characters no key holds) is
`null` with no error, so the rest of the query still answers. `infraModel` is
nullable too, so an unknown purpose is an error on that field alone.

`CACHEABLE_FIELDS` names the root fields whose answers depend only on the
catalogue version and the process's environment, so the response cache may
keep them; every catalogue change bumps that version.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import strawberry

from modeldesk import catalog
from modeldesk.api.context import Info
from modeldesk.api.fields import described
from modeldesk.api.ids import parse_id
from modeldesk.api.loaders import load_providers
from modeldesk.api.paging import check_page
from modeldesk.api.types.catalog import LlmModelType, LlmProviderType
from modeldesk.api.types.settings import (
    AuditEntryType,
    AuditLogPageType,
    InfraModelType,
    SystemSettingType,
)
from modeldesk.db import tables
from modeldesk.db.reads import read_page
from modeldesk.enums import ModelStatus
from modeldesk.input_rules import as_db_id

CACHEABLE_FIELDS = frozenset(
    {
        "llmProviders",
        "llmProvider",
        "llmModels",
        "llmModel",
        "llmModelByIdentifier",
        "availableModels",
        "systemSettings",
        "systemSetting",
        "infraModel",
    }
)


def _prime_providers(info: Info, providers: Iterable[tables.LlmProvider]) -> None:
    """Rows already read need no second query when a nested `provider` asks for them."""
    info.context.loader(load_providers).prime_many({p.id: p for p in providers})


@strawberry.type
class CatalogQuery:
    @strawberry.field
    async def llm_providers(self, info: Info) -> list[LlmProviderType]:
        rows = await catalog.list_providers(info.context.db)
        _prime_providers(info, rows)
        return [LlmProviderType.from_row(row) for row in rows]

    @described("null when no provider has this id.")
    async def llm_provider(self, info: Info, id: strawberry.ID) -> LlmProviderType | None:
        pk = as_db_id(id)
        row = None if pk is None else await catalog.find_provider(info.context.db, pk)
        if row is None:
            return None
        _prime_providers(info, [row])
        return LlmProviderType.from_row(row)

    @described("`availableOnly` keeps models whose provider has an API key.")
    async def llm_models(
        self,
        info: Info,
        provider_id: strawberry.ID | None = None,
        status: ModelStatus | None = None,
        available_only: bool = False,
    ) -> list[LlmModelType]:
        pairs = await catalog.list_models(
            info.context.db,
            provider_id=None if provider_id is None else parse_id(provider_id, "providerId"),
            status=status,
            available_only=available_only,
        )
        _prime_providers(info, (provider for _, provider in pairs))
        return [LlmModelType.from_row(model, provider) for model, provider in pairs]

    @described("null when no model has this id.")
    async def llm_model(self, info: Info, id: strawberry.ID) -> LlmModelType | None:
        pk = as_db_id(id)
        row = None if pk is None else await catalog.find_model(info.context.db, pk)
        return None if row is None else LlmModelType.from_row(row)

    @described("null when the provider has no model with this model id.")
    async def llm_model_by_identifier(
        self, info: Info, provider_name: str, model_id: str
    ) -> LlmModelType | None:
        row = await catalog.find_model_by_identifier(info.context.db, provider_name, model_id)
        return None if row is None else LlmModelType.from_row(row)

    @described("What run creation offers: active models of enabled providers.")
    async def available_models(self, info: Info) -> list[LlmModelType]:
        pairs = await catalog.selectable_models(info.context.db)
        _prime_providers(info, (provider for _, provider in pairs))
        return [LlmModelType.from_row(model, provider) for model, provider in pairs]

    @strawberry.field
    async def system_settings(self, info: Info) -> list[SystemSettingType]:
        rows = await catalog.list_settings(info.context.db)
        return [SystemSettingType.from_row(row) for row in rows]

    @described("null when no setting has this key.")
    async def system_setting(self, info: Info, key: str) -> SystemSettingType | None:
        row = await catalog.find_setting(info.context.db, key)
        return None if row is None else SystemSettingType.from_row(row)

    @described(
        "The model for `purpose` (scenario_expansion, summarization, analysis), "
        "or the cheapest usable one when the configured model cannot be used."
    )
    async def infra_model(self, info: Info, purpose: str) -> InfraModelType | None:
        resolution = await catalog.resolve_infra_model(info.context.db, purpose)
        _prime_providers(info, [resolution.provider])
        return InfraModelType.from_resolution(resolution)

    @described("Who changed what in the catalogue, newest first.")
    async def audit_log(
        self, info: Info, limit: int = 50, offset: int = 0, entity_type: str | None = None
    ) -> AuditLogPageType:
        check_page(limit, offset)
        page = await read_page(
            partial(
                catalog.list_audit_entries,
                info.context.db,
                entity_type=entity_type,
                reader=info.context.principal,
            ),
            limit=limit,
            offset=offset,
        )
        return AuditLogPageType(
            entries=[AuditEntryType.from_row(row) for row in page.rows],
            limit=limit,
            offset=offset,
            has_more=page.has_more,
        )

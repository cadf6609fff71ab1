"""System settings, infrastructure-model resolution and the audit trail as GraphQL types."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from modeldesk import catalog
from modeldesk.api.ids import to_id
from modeldesk.api.row_objects import object_from_row
from modeldesk.api.types.catalog import LlmModelType, LlmProviderType
from modeldesk.db import tables


@strawberry.type(name="SystemSetting")
class SystemSettingType:
    key: str
    value: JSON
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: tables.SystemSetting) -> SystemSettingType:
        return object_from_row(cls, row)


@strawberry.type(
    name="InfraModel",
    description="The model doing an internal task, after applying the fallback rule.",
)
class InfraModelType:
    purpose: str
    model: LlmModelType
    provider: LlmProviderType
    configured: JSON | None = strawberry.field(description="The setting's value, if any.")
    is_fallback: bool
    reason: str | None = strawberry.field(description="Why the configured model was not used.")

    @classmethod
    def from_resolution(cls, resolution: catalog.InfraModelResolution) -> InfraModelType:
        return object_from_row(
            cls,
            resolution,
            model=LlmModelType.from_row(resolution.model, resolution.provider),
            provider=LlmProviderType.from_row(resolution.provider),
            configured=None if resolution.configured is None else JSON(resolution.configured),
        )


@strawberry.type(name="AuditEntry")
class AuditEntryType:
    id: strawberry.ID
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: JSON | None
    after: JSON | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: tables.AuditEntry) -> AuditEntryType:
        return object_from_row(cls, row, id=to_id(row.id))


@strawberry.type(name="AuditLogPage", description="Audit entries, newest first.")
class AuditLogPageType:
    entries: list[AuditEntryType]
    limit: int
    offset: int
    has_more: bool

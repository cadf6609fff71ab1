"""The audit trail: who changed what in the catalogue, before and after.

Entries are written in the same transaction as the change, so a change without
its entry (or an entry for a change that rolled back) cannot exist.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from modeldesk.db.audit_log import record_audit as record_audit
from modeldesk.db.session import Database
from modeldesk.db.tables import AuditEntry, LlmModel, LlmProvider


def _json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def model_snapshot(model: LlmModel) -> dict[str, Any]:
    fields = (
        "provider_id",
        "model_id",
        "display_name",
        "cost_input_per_million",
        "cost_output_per_million",
        "cost_cached_input_per_million",
        "status",
        "is_default",
    )
    return {name: _json_safe(getattr(model, name)) for name in fields}


def provider_snapshot(provider: LlmProvider) -> dict[str, Any]:
    fields = (
        "name",
        "display_name",
        "max_parallel_requests",
        "requests_per_minute",
        "is_enabled",
        "api_style",
        "base_url",
        "api_key_env",
    )
    return {name: _json_safe(getattr(provider, name)) for name in fields}


async def list_audit_entries(
    db: Database, *, limit: int = 100, offset: int = 0, entity_type: str | None = None
) -> list[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if entity_type is not None:
        query = query.where(AuditEntry.entity_type == entity_type)
    async with db.session() as session:
        return list(await session.scalars(query))

"""The audit trail: who changed what in the catalogue, before and after.

Entries are written in the same transaction as the change, so a change without
its entry (or an entry for a change that rolled back) cannot exist.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from modeldesk.auth.principal import Principal
from modeldesk.auth.tokens import MAINTENANCE, TOKEN_ENTITY
from modeldesk.db.audit_log import record_audit as record_audit
from modeldesk.db.session import Database
from modeldesk.db.tables import PRICE_COLUMNS, AuditEntry, LlmModel, LlmProvider
from modeldesk.input_rules import is_storable_text


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
        *PRICE_COLUMNS,
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
        "default_input_price",
        "default_output_price",
        "reference_provider",
    )
    return {name: _json_safe(getattr(provider, name)) for name in fields}


async def base_url_changes(db: Database, provider_ids: list[int]) -> dict[int, AuditEntry]:
    """Each provider's latest base URL change, for its card: where its calls (and its key)
    go is the one setting an operator must be able to see has moved, by whom and when."""
    if not provider_ids:
        return {}
    changed = AuditEntry.before["base_url"].is_distinct_from(AuditEntry.after["base_url"])
    latest = (
        select(func.max(AuditEntry.id))
        .where(
            AuditEntry.entity_type == "provider",
            AuditEntry.action == "provider.update",
            AuditEntry.entity_id.in_([str(provider_id) for provider_id in provider_ids]),
            changed,
        )
        .group_by(AuditEntry.entity_id)
    )
    query = select(AuditEntry).where(AuditEntry.id.in_(latest))
    async with db.session() as session:
        return {int(entry.entity_id): entry for entry in await session.scalars(query)}


async def list_audit_entries(
    db: Database,
    *,
    limit: int = 100,
    offset: int = 0,
    entity_type: str | None = None,
    reader: Principal = MAINTENANCE,
) -> list[AuditEntry]:
    """Newest first; an `entity_type` no entry could have (a NUL in it) matches nothing.

    Token entries (who created or revoked which token) are for admins only: they
    map the server's credentials, which a viewer has no business reading.
    """
    if entity_type is not None and not is_storable_text(entity_type):
        return []
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if entity_type is not None:
        query = query.where(AuditEntry.entity_type == entity_type)
    if not reader.is_admin:
        query = query.where(AuditEntry.entity_type != TOKEN_ENTITY)
    async with db.session() as session:
        return list(await session.scalars(query))

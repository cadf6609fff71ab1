"""The audit trail: who changed what in the catalogue, before and after.

Entries are written in the same transaction as the change, so a change without
its entry (or an entry for a change that rolled back) cannot exist. Every
catalogue change also bumps the catalogue version in that transaction, which is
what tells caches and listeners to read again: `record_catalog_changes` does both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth import MAINTENANCE, TOKEN_ENTITY, Principal
from modeldesk.db.audit_log import record_audit
from modeldesk.db.catalog_version import bump_catalog_version
from modeldesk.db.session import Database
from modeldesk.db.tables import PRICE_COLUMNS, AuditEntry, LlmModel, LlmProvider
from modeldesk.input_rules import is_storable_text


@dataclass(frozen=True)
class CatalogChange:
    """One audit entry's worth of change: what was done to which row, before and after."""

    action: str
    entity_type: str
    entity_id: object
    before: Any = None
    after: Any = None


async def record_catalog_changes(
    session: AsyncSession, actor: Principal, *changes: CatalogChange
) -> None:
    """Audit each change and bump the catalogue version once, in the changes' transaction."""
    for change in changes:
        record_audit(
            session,
            actor,
            change.action,
            change.entity_type,
            change.entity_id,
            before=change.before,
            after=change.after,
        )
    await bump_catalog_version(session)


def _json_safe(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# What an audit entry records of each row: what an operator sets, never timestamps.
_MODEL_FIELDS = ("provider_id", "model_id", "display_name", *PRICE_COLUMNS, "status", "is_default")
_PROVIDER_FIELDS = (
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


def _snapshot(row: object, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _json_safe(getattr(row, name)) for name in fields}


def model_snapshot(model: LlmModel) -> dict[str, Any]:
    return _snapshot(model, _MODEL_FIELDS)


def provider_snapshot(provider: LlmProvider) -> dict[str, Any]:
    return _snapshot(provider, _PROVIDER_FIELDS)


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

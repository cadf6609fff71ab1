"""Writing an audit entry: who changed what, before and after.

Callers add the entry in the session of the change itself, so a change without
its entry (or an entry for a change that rolled back) cannot exist. It lives
here, below the services, because both the catalogue and the token service
(`modeldesk.auth`, which the catalogue builds on) record their changes.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.tables import AuditEntry


class Actor(Protocol):
    """Whoever acted; `modeldesk.auth.Principal` in practice."""

    @property
    def name(self) -> str: ...


def record_audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor.name,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            before=before,
            after=after,
        )
    )

"""The audit log page: catalogue changes, newest first, each with a compact before/after diff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.catalog import list_audit_entries
from modeldesk.db.reads import read_page
from modeldesk.db.tables import AuditEntry
from modeldesk.web.dependencies import Db, PageNumber, User
from modeldesk.web.rendering import render

router = APIRouter()

PAGE_SIZE = 50
ENTITY_TYPES = ("model", "provider", "setting")


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def compact_diff(before: Any, after: Any) -> list[Change]:
    """Only what changed: per field for records, the whole value otherwise."""
    if isinstance(before, dict | None) and isinstance(after, dict | None):
        old, new = before or {}, after or {}
        fields = list(old) + [name for name in new if name not in old]
        return [
            Change(name, _shown(old.get(name)), _shown(new.get(name)))
            for name in fields
            if old.get(name) != new.get(name)
        ]
    return [] if before == after else [Change("value", _shown(before), _shown(after))]


def entity_label(entry: AuditEntry) -> str:
    """A name people recognise (the model id, the provider name) beside the row id."""
    snapshot = entry.after if isinstance(entry.after, dict) else entry.before
    if isinstance(snapshot, dict):
        name = snapshot.get("model_id") or snapshot.get("name")
        if name:
            return f"{entry.entity_type} {name} (#{entry.entity_id})"
    return f"{entry.entity_type} {entry.entity_id}"


@router.get("/audit", include_in_schema=False)
async def audit_page(
    request: Request, db: Db, user: User, page: PageNumber = 1, entity: str = ""
) -> HTMLResponse:
    entity_type = entity if entity in ENTITY_TYPES else None
    entries = await read_page(
        partial(list_audit_entries, db, entity_type=entity_type, reader=user),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    rows = [
        (entry, entity_label(entry), compact_diff(entry.before, entry.after))
        for entry in entries.rows
    ]
    return render(
        request,
        "audit/page.html",
        {
            "section": "audit",
            "rows": rows,
            "page": page,
            "has_older": entries.has_more,
            "entity": entity_type or "",
            "entity_types": ENTITY_TYPES,
        },
    )

"""GraphQL IDs are strings on the wire; the catalogue keys rows by integer."""

from __future__ import annotations

import strawberry

from modeldesk.errors import ValidationError

MAX_ID = 2**63 - 1  # ids are BIGINT; a larger number could only fail in the database


def parse_id(value: strawberry.ID | str | int, field: str = "id") -> int:
    try:
        parsed = int(str(value).strip())
    except ValueError as exc:
        raise ValidationError(f"{field} must be a numeric id, got {value!r}.", field=field) from exc
    if not 0 < parsed <= MAX_ID:
        raise ValidationError(f"{field} is not a valid id: {value!r}.", field=field)
    return parsed


def to_id(value: int) -> strawberry.ID:
    return strawberry.ID(str(value))

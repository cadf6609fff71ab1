"""GraphQL IDs are strings on the wire; the catalogue keys rows by integer."""

from __future__ import annotations

import strawberry

from modeldesk.input_rules import clean_id


def parse_id(value: strawberry.ID | str | int, field: str = "id") -> int:
    """The row id an argument names; VALIDATION_ERROR when it cannot be one."""
    return clean_id(value, field)


def to_id(value: int) -> strawberry.ID:
    return strawberry.ID(str(value))

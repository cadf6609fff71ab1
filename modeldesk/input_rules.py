"""What the database can store: one rule for every text, JSON value and id a caller sends.

PostgreSQL refuses NUL in `text` and `jsonb`, a lone surrogate cannot be
encoded as UTF-8, and a BIGINT key stops at 2**63 - 1: any of these reaching
a query fails deep in the driver as an internal error. Every service that
stores or looks up caller input (API, web forms and CLI alike) goes through
this module, so such input is refused up front as a VALIDATION_ERROR naming
the field, and a lookup by it simply finds nothing.

Writes are stricter than storage: control characters (C0, DEL, C1) never
belong in a name or an id, and only multi-line text (templates, preambles,
scenarios, JSON strings) may hold tab, newline and carriage return.
"""

from __future__ import annotations

import math
import re
from typing import Any

from modeldesk.errors import ValidationError

MAX_TEXT = 200
# How much of a refused value an error message (and so a page or a log line) quotes:
# enough to recognise it, never a megabyte of it.
MAX_ECHO = 100
MAX_DB_ID = 2**63 - 1  # ids are BIGINT
# Deeper JSON than this is no setting anyone means, and walking it costs memory.
MAX_JSON_DEPTH = 32

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def cut_echo(text: str) -> str:
    """`text` as an error message may repeat it: at most MAX_ECHO characters (SPEC 9.6)."""
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…"


def echoed(value: object) -> str:
    """`value` as an error message quotes it: a string's repr, anything else as str(),
    cut to MAX_ECHO characters."""
    return cut_echo(repr(value) if isinstance(value, str) else str(value))


def is_storable_text(value: str) -> bool:
    """Whether PostgreSQL can hold `value`; a lookup by a key that it cannot hold finds nothing."""
    return _UNSTORABLE.search(value) is None


def is_db_id(value: int) -> bool:
    """Whether `value` can be a row's id; a lookup by any other number matches nothing."""
    return 0 < value <= MAX_DB_ID


def as_db_id(value: Any) -> int | None:
    """The row id `value` spells ("12" or 12), or None when no row could have it.

    Only ASCII digits count: int() would also take "1_000", "+5" and other
    scripts' digits, and raises on thousands of digits instead of answering.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if is_db_id(value) else None
    text = str(value).strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(MAX_DB_ID)):
        return None
    number = int(text)
    return number if is_db_id(number) else None


def clean_id(value: Any, field: str = "id") -> int:
    """A row id from a form or an API argument; VALIDATION_ERROR naming the field otherwise."""
    parsed = as_db_id(value)
    if parsed is None:
        raise ValidationError(
            f"{field} must be a whole number from 1 to {MAX_DB_ID}, got {echoed(value)}.",
            field=field,
        )
    return parsed


def check_characters(value: str, field: str, *, multiline: bool = False) -> str:
    """`value` unchanged, or VALIDATION_ERROR naming the field and the first character refused."""
    forbidden = _MULTI_LINE_FORBIDDEN if multiline else _SINGLE_LINE_FORBIDDEN
    found = forbidden.search(value)
    if found is not None:
        allowed = " (tab and line breaks are allowed)" if multiline else ""
        raise ValidationError(
            f"{field} must not contain control characters{allowed}: found "
            f"U+{ord(found.group()):04X} at position {found.start()}.",
            field=field,
        )
    return value


def clean_text(
    value: str, field: str, *, max_length: int = MAX_TEXT, multiline: bool = False
) -> str:
    """Stripped, non-empty, at most `max_length` characters, and storable (see `check_characters`).

    Single-line is the default because most text is a name, an id or a key; pass
    `multiline=True` for prose such as templates.
    """
    cleaned = value.strip()
    if not cleaned:
        raise ValidationError(f"{field} must not be empty.", field=field)
    if len(cleaned) > max_length:
        raise ValidationError(
            f"{field} must be at most {max_length} characters (got {len(cleaned)}).", field=field
        )
    return check_characters(cleaned, field, multiline=multiline)


def check_json(value: Any, field: str) -> Any:
    """`value` unchanged, or VALIDATION_ERROR when jsonb could not hold it.

    Every string in it (object keys included) follows the multi-line text rule;
    numbers must be finite (jsonb has no NaN or Infinity). Walked without
    recursion, so a deeply nested value is refused rather than crashing.
    """
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(
                f"{field} is nested more than {MAX_JSON_DEPTH} levels deep.", field=field
            )
        if isinstance(item, str):
            check_characters(item, field, multiline=True)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValidationError(f"{field} must hold only finite numbers.", field=field)
        elif isinstance(item, dict):
            for key, nested in item.items():
                if not isinstance(key, str):
                    raise ValidationError(f"{field} must have text keys only.", field=field)
                check_characters(key, field, multiline=True)
                pending.append((nested, depth + 1))
        elif isinstance(item, list):
            pending.extend((nested, depth + 1) for nested in item)
        elif item is not None and not isinstance(item, bool | int):
            raise ValidationError(f"{field} must be JSON.", field=field)
    return value

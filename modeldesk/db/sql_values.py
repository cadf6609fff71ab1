"""State values written into SQL text, taken from the enums.

The queue's statements are module constants, built once at import, so the
states they test and set are spelled by `modeldesk.enums` and never by hand:
adding or renaming a state changes the SQL with it. The values are the enums'
own (upper-case words, pgqueuer's lower-case ones), never input, so quoting
them here cannot open an injection.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


def sql_value(value: StrEnum) -> str:
    """One state as a SQL string literal: its value in single quotes."""
    return f"'{value.value}'"


def sql_list(values: Iterable[StrEnum]) -> str:
    """A group of states as the inside of a SQL `IN (...)`: quoted values, comma-separated."""
    return ", ".join(sql_value(value) for value in values)

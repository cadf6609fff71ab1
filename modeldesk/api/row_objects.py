"""GraphQL objects built from rows by one mapping, not a field-by-field copy per type.

Most of a type's fields are the row's columns under the same name; writing each
one out again in every `from_row` is how a new column gets forgotten in one
type and not another. `object_from_row` copies what matches and a type states
only what differs: ids, enums, renamed or derived fields, the private row.
Money leaves the services as exact Decimals and becomes a JSON number here, or
in a type's own field (`types.prices.price`) where it is not a column.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any, TypeVar

ObjectT = TypeVar("ObjectT")

# An attribute the source does not have; None is a value like any other.
_ABSENT = object()


# Per type, read once: a page builds hundreds of objects of the same few types.
_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def _constructor_fields(object_type: type[Any]) -> tuple[str, ...]:
    names = _FIELDS.get(object_type)
    if names is None:
        names = tuple(field.name for field in dataclasses.fields(object_type) if field.init)
        _FIELDS[object_type] = names
    return names


def object_from_row(object_type: type[ObjectT], source: object, /, **given: Any) -> ObjectT:
    """An `object_type` whose fields are `given`, else `source`'s attribute of the same name.

    `source` is a row or any record the services answer with. A field neither
    given nor found keeps its default, or fails to construct (TypeError) when it
    has none, so a missing mapping cannot pass unnoticed.
    """
    values = dict(given)
    for name in _constructor_fields(object_type):
        if name not in values:
            value = getattr(source, name, _ABSENT)
            if value is not _ABSENT:
                values[name] = float(value) if isinstance(value, Decimal) else value
    return object_type(**values)

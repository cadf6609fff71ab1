"""`object_from_row`: fields copied by name, Decimals as numbers, the rest stated by the type."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
import strawberry

from modeldesk.api.row_objects import object_from_row


@strawberry.type
class PricedThing:
    id: strawberry.ID
    name: str
    price: float | None
    note: str = "none"
    source: strawberry.Private[object] = None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@dataclass
class Row:
    id: int
    name: str
    price: Decimal | None
    extra: str = "not a field"


def test_matching_fields_are_copied_and_decimals_become_numbers() -> None:
    row = Row(7, "widget", Decimal("0.1"))
    thing = object_from_row(PricedThing, row, id=strawberry.ID("7"), source=row)
    assert (thing.id, thing.name, thing.price, thing.note) == ("7", "widget", 0.1, "none")
    assert thing.source is row and isinstance(thing.price, float)
    assert object_from_row(PricedThing, Row(1, "x", None)).price is None


def test_given_values_win_over_the_row() -> None:
    thing = object_from_row(PricedThing, Row(1, "widget", None), name="renamed", note="kept")
    assert (thing.name, thing.note) == ("renamed", "kept")


def test_a_field_neither_given_nor_on_the_row_fails_loudly() -> None:
    with pytest.raises(TypeError, match="price"):
        object_from_row(PricedThing, object(), id="1", name="x")

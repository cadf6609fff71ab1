"""Big lists resolved without reading unasked columns or holding the event loop (SPEC 9.7)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TypeVar

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from modeldesk.api.context import Info

T = TypeVar("T")
# Items completed between two turns of the event loop: 50 transcripts with their
# nested fields take a few milliseconds; 500 took up to 96 ms on a busy machine.
SLICE = 50


def _names(selections: Iterable[Selection]) -> Iterable[str]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection.name
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _names(selection.selections)


def selects_field(info: Info, name: str) -> bool:
    """Whether the resolved field's selection (fragments included) asks for `name`.

    `name` is the GraphQL (camelCase) name; aliases do not matter.
    """
    return any(name in _names(field.selections) for field in info.selected_fields)


async def in_slices(items: Sequence[T], size: int = SLICE) -> AsyncIterator[T]:
    """The items, yielding the event loop every `size` of them.

    Returned from a list field's resolver, graphql-core completes the items as
    they come (`complete_async_iterator_value`), so a page of 500 is completed
    in slices rather than in one synchronous stretch.
    """
    for index, item in enumerate(items):
        if index and index % size == 0:
            await asyncio.sleep(0)
        yield item

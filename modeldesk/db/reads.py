"""Row lookups, batch reads and paging, written once for every service.

Each service answers a lookup both ways, a nullable `find_*` (the API's lookups)
and a `get_*` that is NOT_FOUND otherwise. DataLoaders and list pages ask for
many rows at a time; answering each batch with one query is what keeps a
nested GraphQL field or a page of runs from turning into N+1 queries. Pages
read one row past their end, which tells whether another page exists without
a second (count) query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import InstrumentedAttribute

from modeldesk.db.session import Database
from modeldesk.errors import NotFoundError

RowT = TypeVar("RowT")
KeyT = TypeVar("KeyT")


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


IdRowT = TypeVar("IdRowT", bound=_HasId)


def required(row: RowT | None, missing: str) -> RowT:
    """`row`, or NOT_FOUND saying `missing`: the `get_*` twin of each nullable `find_*`."""
    if row is None:
        raise NotFoundError(missing)
    return row


async def row_by_key(db: Database, entity: type[RowT], key: object) -> RowT | None:
    """The row of `entity` under primary key `key`, or None.

    Callers first check that `key` is one a row could have (`input_rules`), so
    a lookup no row could answer never reaches the database as an error.
    """
    async with db.session() as session:
        return await session.get(entity, key)


async def rows_by_ids(db: Database, entity: type[IdRowT], ids: Sequence[int]) -> dict[int, IdRowT]:
    """Rows of `entity` by primary key, in one query; an id with no row is left out."""
    if not ids:
        return {}
    (id_column,) = inspect(entity).primary_key
    async with db.session() as session:
        rows = await session.scalars(select(entity).where(id_column.in_(ids)))
        return {row.id: row for row in rows}


async def rows_grouped_by(
    db: Database, key: InstrumentedAttribute[KeyT], keys: Sequence[KeyT], rows: Select[RowT]
) -> dict[KeyT, list[RowT]]:
    """The `rows` whose `key` is one of `keys`, grouped by it, each list in `rows`' order.

    `key` is a column the query can reach (its entity's own, or a joined one's);
    a key with no rows is absent from the answer.
    """
    grouped: dict[KeyT, list[RowT]] = defaultdict(list)
    if not keys:
        return grouped
    query = rows.add_columns(key).where(key.in_(keys))
    async with db.session() as session:
        for row, row_key in (await session.execute(query)).all():
            grouped[row_key].append(row)
    return grouped


@dataclass(frozen=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    # Whether rows exist past this page.
    has_more: bool


class PageReader(Protocol[RowT]):
    def __call__(self, *, limit: int, offset: int) -> Awaitable[list[RowT]]: ...


async def read_page(read: PageReader[RowT], *, limit: int, offset: int) -> Page[RowT]:
    """`limit` rows from `offset`, read with one row beyond them to tell whether more exist."""
    rows = await read(limit=limit + 1, offset=offset)
    return Page(rows[:limit], has_more=len(rows) > limit)

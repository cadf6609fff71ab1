"""Pages of a run's transcripts (SPEC 9.7): bounded reads, whatever the run's size.

A 100k-probe run's transcripts are never read whole by a request: the API
asks for pages of at most 500, and the export (9.2) is the way to take them
all. Pages of many runs (a run list asking each run's first page) are read in
one statement, each run's page a LATERAL subquery on the (run_id, id) index.
The `response` text, by far the widest column, is read only when asked for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value

from modeldesk.db.run_tables import Transcript
from modeldesk.db.session import Database
from modeldesk.enums import TranscriptStatus


@dataclass(frozen=True)
class TranscriptPage:
    """One run's page: which transcripts (filters), where (offset, limit), and which columns."""

    run_id: int
    limit: int
    offset: int = 0
    status: TranscriptStatus | None = None
    model_id: int | None = None
    with_response: bool = True

    @property
    def shape(self) -> tuple[int, int, TranscriptStatus | None, int | None, bool]:
        """Everything but the run: pages of one shape are read in one statement."""
        return (self.limit, self.offset, self.status, self.model_id, self.with_response)


def _filters(page: TranscriptPage) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if page.status is not None:
        filters.append(Transcript.status == page.status.value)
    if page.model_id is not None:
        filters.append(Transcript.model_id == page.model_id)
    return filters


async def _read_shape(db: Database, shape: TranscriptPage, run_ids: list[int]) -> list[Transcript]:
    # render_derived: `AS anon(run_id)`, or PostgreSQL names the column "unnest".
    run_keys = (
        func.unnest(
            func.cast(run_ids, ARRAY(BigInteger))  # type: ignore[arg-type]
        )
        .table_valued("run_id")
        .render_derived()
    )
    page_ids = (
        select(Transcript.id)
        .where(Transcript.run_id == run_keys.c.run_id, *_filters(shape))
        .order_by(Transcript.id)
        .limit(shape.limit)
        .offset(shape.offset)
        .lateral()
    )
    statement = (
        select(Transcript)
        .where(
            Transcript.id.in_(select(page_ids.c.id).select_from(run_keys.join(page_ids, true())))
        )
        .order_by(Transcript.run_id, Transcript.id)
    )
    if not shape.with_response:
        statement = statement.options(defer(Transcript.response))
    async with db.session() as session:
        rows = list(await session.scalars(statement))
    if not shape.with_response:
        # Not read, and not asked for: None rather than a lazy load on a closed session.
        for row in rows:
            set_committed_value(row, "response", None)
    return rows


async def transcript_pages(
    db: Database, pages: Sequence[TranscriptPage]
) -> dict[TranscriptPage, list[Transcript]]:
    """Each page's transcripts, oldest first; one statement per distinct page shape."""
    by_shape: dict[tuple[object, ...], list[TranscriptPage]] = defaultdict(list)
    for page in pages:
        by_shape[page.shape].append(page)
    found: dict[TranscriptPage, list[Transcript]] = {page: [] for page in pages}
    for same_shape in by_shape.values():
        rows = await _read_shape(db, same_shape[0], sorted({p.run_id for p in same_shape}))
        by_run: dict[int, list[Transcript]] = defaultdict(list)
        for row in rows:
            by_run[row.run_id].append(row)
        for page in same_shape:
            found[page] = by_run[page.run_id]
    return found


async def transcript_counts(
    db: Database, pages: Sequence[TranscriptPage]
) -> dict[TranscriptPage, int]:
    """How many transcripts each page's filters match in its run (limit and offset ignored).

    One grouped count per distinct filter; the (run_id, id) index bounds each to its runs.
    """
    by_filter: dict[tuple[object, ...], list[TranscriptPage]] = defaultdict(list)
    for page in pages:
        by_filter[(page.status, page.model_id)].append(page)
    counts: dict[TranscriptPage, int] = {}
    async with db.session() as session:
        for same_filter in by_filter.values():
            rows = await session.execute(
                select(Transcript.run_id, func.count())
                .where(
                    Transcript.run_id.in_({p.run_id for p in same_filter}),
                    *_filters(same_filter[0]),
                )
                .group_by(Transcript.run_id)
            )
            per_run = {run_id: int(count) for run_id, count in rows.all()}
            for page in same_filter:
                counts[page] = per_run.get(page.run_id, 0)
    return counts

"""Reads of summaries and analyses, batched by transcript or run for the API and pages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from modeldesk.db.session import Database
from modeldesk.db.summary_tables import RunAnalysis, TranscriptSummary


async def summaries_by_transcript_ids(
    db: Database, transcript_ids: Sequence[int]
) -> dict[int, TranscriptSummary]:
    if not transcript_ids:
        return {}
    async with db.session() as session:
        rows = await session.scalars(
            select(TranscriptSummary).where(TranscriptSummary.transcript_id.in_(transcript_ids))
        )
        return {row.transcript_id: row for row in rows}


async def analyses_by_run_ids(db: Database, run_ids: Sequence[int]) -> dict[int, RunAnalysis]:
    if not run_ids:
        return {}
    async with db.session() as session:
        rows = await session.scalars(select(RunAnalysis).where(RunAnalysis.run_id.in_(run_ids)))
        return {row.run_id: row for row in rows}

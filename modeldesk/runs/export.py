"""A run's transcripts as JSON Lines or CSV, streamed page by page (SPEC 9.2).

One line per transcript: scenario, provider, model, status, error, response,
token counts and cost, the cost as an exact decimal string (never a float),
and the judge's summary and score when the run summarizes.
Rows are read in keyset pages on the transcripts' unique (run, scenario,
model) index, each page in a short session of its own, so an export of any
size holds one page in memory and no connection between pages; a 100k-probe
run exports in the same memory as a 1k one. Quoting is the `csv` and `json`
modules' own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import text

from modeldesk.db.session import Database
from modeldesk.runs.queries import get_run

# Rows read per query, and bytes written per chunk sent: small enough that a
# page of long responses stays a few megabytes, large enough to keep round
# trips and writes few.
PAGE_SIZE = 200
CHUNK_BYTES = 64 * 1024

COLUMNS = (
    "run_id",
    "transcript_id",
    "scenario_id",
    "scenario",
    "provider",
    "model_id",
    "status",
    "error_code",
    "error_message",
    "retryable",
    "response",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost",
    "unpriced",
    "duration_ms",
    "created_at",
    # The summarization model's judgement (SPEC 9.5); empty when not judged.
    "summary_status",
    "score",
    "summary",
)

_PAGE = """
SELECT t.run_id, t.id AS transcript_id, t.scenario_id, s.text AS scenario,
       pr.name AS provider, m.model_id, t.status, t.error_code,
       p.error_message, p.retryable, t.response,
       t.input_tokens, t.cached_input_tokens, t.output_tokens, t.reasoning_tokens,
       t.estimated_cost AS cost, t.unpriced, t.duration_ms, t.created_at,
       t.model_id AS model_pk,
       j.status AS summary_status, j.score, j.summary
FROM transcripts t
JOIN scenarios s ON s.id = t.scenario_id
JOIN llm_models m ON m.id = t.model_id
JOIN llm_providers pr ON pr.id = m.provider_id
JOIN probes p ON p.id = t.probe_id
LEFT JOIN transcript_summaries j ON j.transcript_id = t.id
WHERE t.run_id = :run_id AND (t.scenario_id, t.model_id) > (:after_scenario, :after_model)
ORDER BY t.scenario_id, t.model_id
LIMIT :limit
"""


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"

    @property
    def media_type(self) -> str:
        return "application/x-ndjson" if self is ExportFormat.JSONL else "text/csv"


def _plain(value: Any) -> Any:
    """JSON- and CSV-ready: exact decimals and times as strings, the rest as they are."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def export_rows(db: Database, run_id: int) -> AsyncIterator[dict[str, Any]]:
    """The run's transcripts in (scenario, model) order, one page read at a time."""
    after = (0, 0)
    while True:
        async with db.session() as session:
            result = await session.execute(
                text(_PAGE),
                {
                    "run_id": run_id,
                    "after_scenario": after[0],
                    "after_model": after[1],
                    "limit": PAGE_SIZE,
                },
            )
            page = result.mappings().all()
        for row in page:
            yield {column: _plain(row[column]) for column in COLUMNS}
        if len(page) < PAGE_SIZE:
            return
        after = (page[-1]["scenario_id"], page[-1]["model_pk"])


async def _lines(db: Database, run_id: int, export_format: ExportFormat) -> AsyncIterator[bytes]:
    """Encoded lines, in chunks of about `CHUNK_BYTES`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer) if export_format is ExportFormat.CSV else None
    if writer is not None:
        writer.writerow(COLUMNS)
    async for row in export_rows(db, run_id):
        if writer is None:
            buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer.writerow([row[column] for column in COLUMNS])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def transcript_export(
    db: Database, run_id: int, export_format: ExportFormat
) -> AsyncIterator[bytes]:
    """The export's body, to stream; raises `NotFoundError` at once for an unknown run."""
    await get_run(db, run_id)
    return _lines(db, run_id, export_format)

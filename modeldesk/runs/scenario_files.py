"""Scenarios uploaded as a file (SPEC 9.7): CSV or JSON Lines, up to `MAX_SCENARIOS`.

A definition of 20,000 scenarios does not fit a form field or a GraphQL
variable comfortably; a file is sent as the request body instead (within the
admin's 16 MB body limit). Formats:
- CSV: one scenario per row, the first column; a first row reading `scenario`
  or `text` is a header and skipped;
- JSONL: one JSON string, or object with a `text` (or `scenario`) string, per line.
The upload replaces the definition's current scenarios (source "explicit");
the old ones stay, superseded, for the runs that used them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from typing import Literal

from modeldesk.auth import Principal
from modeldesk.db.session import Database
from modeldesk.errors import ValidationError
from modeldesk.runs.inputs import clean_scenarios
from modeldesk.runs.scenario_store import lock_definition, replace_scenarios

logger = logging.getLogger(__name__)

ScenarioFileFormat = Literal["csv", "jsonl"]
# The media types a scenario file may be sent as, API upload and page alike.
SCENARIO_FILE_TYPES: dict[str, ScenarioFileFormat] = {
    "text/csv": "csv",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/x-jsonlines": "jsonl",
}
_HEADERS = {"scenario", "text"}


def _csv_texts(content: str) -> list[str]:
    rows = [row for row in csv.reader(io.StringIO(content)) if row and any(row)]
    if rows and rows[0][0].strip().lower() in _HEADERS:
        rows = rows[1:]
    return [row[0] for row in rows]


def _jsonl_texts(content: str) -> list[str]:
    texts = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"Line {number} is not JSON: {exc.msg}.", field="scenarios"
            ) from exc
        if isinstance(item, dict):
            item = item.get("text", item.get("scenario"))
        if not isinstance(item, str):
            raise ValidationError(
                f"Line {number} is neither a string nor an object with a text.", field="scenarios"
            )
        texts.append(item)
    return texts


def parse_scenario_file(content: bytes, file_format: ScenarioFileFormat) -> tuple[str, ...]:
    """The file's scenarios, cleaned as listed scenarios are (bounded, no duplicates)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError("The file is not UTF-8 text.", field="scenarios") from exc
    texts = _csv_texts(text) if file_format == "csv" else _jsonl_texts(text)
    if not texts:
        raise ValidationError("The file holds no scenarios.", field="scenarios")
    return clean_scenarios(texts)


async def upload_scenarios(
    db: Database,
    actor: Principal,
    definition_id: int,
    content: bytes,
    file_format: ScenarioFileFormat,
) -> int:
    """Make the file's scenarios the definition's current ones; returns how many.

    Parsing 20,000 rows runs in a thread, off the event loop.
    """
    actor.require_admin("uploading scenarios")
    texts = await asyncio.to_thread(parse_scenario_file, content, file_format)
    async with db.transaction() as session:
        await lock_definition(session, definition_id)
        await replace_scenarios(session, definition_id, texts, "explicit")
    logger.info(
        "definition %s: %d scenarios uploaded (%s) by %s",
        definition_id,
        len(texts),
        file_format,
        actor.name,
    )
    return len(texts)

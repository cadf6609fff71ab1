"""Exporting a run's transcripts: the contents of both formats, and memory that stays flat."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from decimal import Decimal

import pytest
from runs_support import Driver, model_pk
from sqlalchemy import text

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.errors import NotFoundError
from modeldesk.runs import (
    ExportFormat,
    create_definition,
    create_run,
    transcript_export,
)
from modeldesk.runs.export import COLUMNS, PAGE_SIZE
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.probe_runs import transcripts_by_run_ids

# Quotes, commas, a line break and non-ASCII: what hand-written quoting gets wrong.
AWKWARD = 'Say "hi", then\na line; café ☕'


async def _body(db: Database, run_id: int, export_format: ExportFormat) -> str:
    chunks = [chunk async for chunk in await transcript_export(db, run_id, export_format)]
    return b"".join(chunks).decode()


async def _finished_run(driver: Driver, admin: Principal, sim: Simulator) -> int:
    sim.configure(
        "gpt-5-mini", input_tokens=1200, output_tokens=300, cached_tokens=200, text=AWKWARD
    )
    sim.configure("claude-haiku-4-5", outcomes=["ok", Outcome.error(500)] + ["500"] * 3)
    definition = await create_definition(
        driver.db, admin, name="Export", template="Answer.", scenarios=[AWKWARD, "Plain?"]
    )
    run = await create_run(
        driver.db, admin, definition.id, ["openai/gpt-5-mini", "anthropic/claude-haiku-4-5"]
    )
    await driver.run_all(run.id)
    return run.id


async def test_jsonl_has_one_line_per_transcript_with_exact_costs(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    run_id = await _finished_run(driver, admin, sim)
    lines = (await _body(db, run_id, ExportFormat.JSONL)).splitlines()
    rows = [json.loads(line) for line in lines]
    transcripts = {t.id: t for t in (await transcripts_by_run_ids(db, [run_id]))[run_id]}
    assert len(rows) == len(transcripts) == 4
    assert all(list(row) == list(COLUMNS) for row in rows)

    first = rows[0]
    mini = transcripts[first["transcript_id"]]
    assert first["scenario"] == AWKWARD and first["response"] == AWKWARD
    assert (first["provider"], first["model_id"], first["status"]) == (
        "openai",
        "gpt-5-mini",
        TranscriptStatus.SUCCEEDED,
    )
    assert (first["input_tokens"], first["cached_input_tokens"], first["output_tokens"]) == (
        1200,
        200,
        300,
    )
    assert first["cost"] == format(mini.estimated_cost, "f")  # an exact string, not a float
    assert Decimal(first["cost"]) == mini.estimated_cost > 0

    failures = [row for row in rows if row["status"] == TranscriptStatus.FAILED]
    assert len(failures) == 1
    assert failures[0]["error_code"] == "PROVIDER_ERROR"
    assert failures[0]["retryable"] is True and "500" in failures[0]["error_message"]
    assert failures[0]["cost"] == "0"


async def test_csv_carries_the_same_rows_quoted_by_the_csv_module(
    driver: Driver, admin: Principal, sim: Simulator
) -> None:
    db = driver.db
    run_id = await _finished_run(driver, admin, sim)
    jsonl = [
        json.loads(line) for line in (await _body(db, run_id, ExportFormat.JSONL)).splitlines()
    ]
    table = list(csv.DictReader(io.StringIO(await _body(db, run_id, ExportFormat.CSV))))
    assert len(table) == len(jsonl) == 4
    for row, expected in zip(table, jsonl, strict=True):
        assert list(row) == list(COLUMNS)
        assert row == {k: "" if v is None else str(v) for k, v in expected.items()}


async def test_an_unknown_run_is_not_found_before_anything_is_sent(driver: Driver) -> None:
    with pytest.raises(NotFoundError):
        await transcript_export(driver.db, 424242, ExportFormat.CSV)


async def _large_run(db: Database, admin: Principal, rows: int) -> int:
    """A finished run of `rows` transcripts, each with a 2 KB response, written in bulk."""
    definition = await create_definition(db, admin, name="Large", template="x", scenarios=["x"])
    model = await model_pk(db, "gpt-5-mini")
    async with db.transaction() as session:
        params = {
            "d": definition.id,
            "m": model,
            "n": rows,
            "who": admin.name,
            "run_status": RunStatus.COMPLETED,
            "probe_state": ProbeState.SUCCEEDED,
            "transcript_status": TranscriptStatus.SUCCEEDED,
        }
        statements = [
            "INSERT INTO scenarios (definition_id, position, text, source)"
            " SELECT :d, g, 'Scenario number ' || g, 'explicit' FROM generate_series(1, :n) g",
            "INSERT INTO runs (definition_id, status, total, completed, created_by)"
            " VALUES (:d, :run_status, :n, :n, :who)",
            "INSERT INTO run_models (run_id, model_id, position) SELECT max(id), :m, 0 FROM runs",
            "INSERT INTO probes (run_id, scenario_id, model_id, state)"
            " SELECT (SELECT max(id) FROM runs), s.id, :m, :probe_state FROM scenarios s"
            " WHERE s.definition_id = :d AND s.position > 0",
            "INSERT INTO transcripts (run_id, scenario_id, model_id, probe_id, status, response,"
            " input_tokens, output_tokens, estimated_cost)"
            " SELECT p.run_id, p.scenario_id, p.model_id, p.id, :transcript_status,"
            " repeat('r', 2000), 100, 200, 0.000425"
            " FROM probes p WHERE p.run_id = (SELECT max(id) FROM runs)",
        ]
        for statement in statements:
            await session.execute(text(statement), params)
        run_id = await session.scalar(text("SELECT max(id) FROM runs"))
    assert run_id is not None
    return int(run_id)


async def _peak_while_streaming(db: Database, run_id: int) -> tuple[int, int, int]:
    """(peak traced bytes, lines, bytes sent) while consuming the JSONL export."""
    tracemalloc.start()
    try:
        lines = sent = 0
        async for chunk in await transcript_export(db, run_id, ExportFormat.JSONL):
            lines += chunk.count(b"\n")
            sent += len(chunk)
        return tracemalloc.get_traced_memory()[1], lines, sent
    finally:
        tracemalloc.stop()


async def test_ten_thousand_rows_stream_in_flat_memory(
    seeded_db: Database, admin: Principal
) -> None:
    small = await _large_run(seeded_db, admin, 10 * PAGE_SIZE)
    large = await _large_run(seeded_db, admin, 10_000)
    await _peak_while_streaming(seeded_db, small)  # warm caches (statements, types) first

    small_peak, small_lines, _ = await _peak_while_streaming(seeded_db, small)
    large_peak, large_lines, large_bytes = await _peak_while_streaming(seeded_db, large)

    assert (small_lines, large_lines) == (10 * PAGE_SIZE, 10_000)
    assert large_bytes > 20_000_000  # 10k lines of 2 KB responses
    # 5x the rows, the same memory: a page at a time, never the whole export.
    assert large_peak < small_peak * 1.5, (small_peak, large_peak)
    assert large_peak < large_bytes / 8, (large_peak, large_bytes)

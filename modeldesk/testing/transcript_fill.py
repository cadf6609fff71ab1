"""Runs filled with transcripts directly, for paging tests and the scale benchmark (SPEC 9.7).

A run of 100k real calls takes minutes; what these callers measure is reading
(pages, breakdowns, counts) with many transcripts in the database, so the run
is created by the real service and its outcomes are written in one statement,
as the worker would have written them: one transcript per probe, the probes
and the run finished. The running totals follow through their triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.errors import ErrorCode
from modeldesk.runs.creation import create_run
from modeldesk.runs.definitions import create_definition

# Five seed models of five providers: 20,000 scenarios on them make the largest run.
FIVE_MODELS = (
    "openai/gpt-5-mini",
    "anthropic/claude-haiku-4-5",
    "xai/grok-4-0709",
    "deepseek/deepseek-chat",
    "mistral/mistral-large-2512",
)

# Every seventh probe failed and every eleventh was skipped; the others succeeded
# with a response of `response_chars` characters and modest token counts.
_FILL_SQL = """
WITH outcome AS (
    SELECT p.id, p.run_id, p.scenario_id, p.model_id,
        CASE WHEN p.id % 7 = 0 THEN CAST(:failed AS text)
             WHEN p.id % 11 = 0 THEN CAST(:skipped AS text)
             ELSE CAST(:succeeded AS text) END AS status
    FROM probes p WHERE p.run_id = :run_id AND p.state = :pending
), recorded AS (
    INSERT INTO transcripts (run_id, scenario_id, model_id, probe_id, status, error_code,
        response, input_tokens, output_tokens, estimated_cost, duration_ms)
    SELECT run_id, scenario_id, model_id, id, status,
        CASE status WHEN :failed THEN :provider_error END,
        CASE status WHEN :succeeded THEN repeat('x', :response_chars) END,
        CASE status WHEN :succeeded THEN 40 + id % 17 ELSE 0 END,
        CASE status WHEN :succeeded THEN 200 + id % 31 ELSE 0 END,
        CASE status WHEN :succeeded THEN 0.000125 ELSE 0 END,
        150
    FROM outcome
    RETURNING probe_id, status
), finished AS (
    UPDATE probes p SET state = r.status, finished_at = now()
    FROM recorded r WHERE p.id = r.probe_id
)
UPDATE runs SET status = :completed, started_at = now(), finished_at = now(),
    completed = (SELECT count(*) FROM recorded WHERE status = :succeeded),
    failed = (SELECT count(*) FROM recorded WHERE status = :failed),
    skipped = (SELECT count(*) FROM recorded WHERE status = :skipped),
    spent_cost = (SELECT count(*) FROM recorded WHERE status = :succeeded) * 0.000125
WHERE id = :run_id
"""
_DROP_JOBS_SQL = """
DELETE FROM pgqueuer WHERE entrypoint LIKE 'probe.%'
  AND payload IN (SELECT convert_to('{"probe_id":' || id || '}', 'UTF8')
                  FROM probes WHERE run_id = :run_id)
"""


async def fill_run(db: Database, run_id: int, response_chars: int = 400) -> None:
    """Record an outcome for every pending probe of the run and finish it; its jobs go."""
    async with db.transaction() as session:
        await session.execute(text(_DROP_JOBS_SQL), {"run_id": run_id})
        await session.execute(
            text(_FILL_SQL),
            {
                "run_id": run_id,
                "response_chars": response_chars,
                "pending": ProbeState.PENDING.value,
                "succeeded": TranscriptStatus.SUCCEEDED.value,
                "failed": TranscriptStatus.FAILED.value,
                "skipped": TranscriptStatus.SKIPPED.value,
                "completed": RunStatus.COMPLETED.value,
                "provider_error": ErrorCode.PROVIDER_ERROR.value,
            },
        )


async def definition_of_size(db: Database, actor: Principal, sizes: Sequence[int]) -> int:
    """A definition of prod(sizes) scenarios, one dimension per size (at most 100 levels each)."""
    names = [f"d{k}" for k in range(len(sizes))]
    definition = await create_definition(
        db,
        actor,
        name=f"{'x'.join(map(str, sizes))} scenarios",
        template=" ".join(f"{{{{{name}}}}}" for name in names),
        dimensions=[
            {"name": name, "levels": [f"{name}-{i}" for i in range(size)]}
            for name, size in zip(names, sizes, strict=True)
        ],
    )
    return definition.id


async def filled_run(
    db: Database,
    actor: Principal,
    sizes: Sequence[int],
    models: Sequence[str] = FIVE_MODELS,
    response_chars: int = 400,
) -> int:
    """A finished run of a new definition of prod(sizes) scenarios on `models`; its id."""
    definition_id = await definition_of_size(db, actor, sizes)
    run = await create_run(db, actor, definition_id, list(models))
    await fill_run(db, run.id, response_chars)
    return run.id

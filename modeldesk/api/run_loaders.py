"""Batch functions behind the run types' DataLoaders (see `RequestContext.loader`).

Each answers every key of a batch with one query through the runs service, so
a run list with nested definitions, models, costs and transcripts costs a fixed
number of statements whatever the row count.
"""

from __future__ import annotations

from modeldesk import catalog, runs
from modeldesk.api.loaders import each_found, each_list
from modeldesk.db.run_tables import Definition, Probe, ProbeAttempt, Scenario, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel


async def load_definitions(db: Database, ids: list[int]) -> list[Definition | BaseException]:
    return each_found(ids, await runs.definitions_by_ids(db, ids), "definition")


async def load_current_scenarios(db: Database, definition_ids: list[int]) -> list[list[Scenario]]:
    return each_list(definition_ids, await runs.scenarios_by_definition_ids(db, definition_ids))


async def load_scenarios(db: Database, ids: list[int]) -> list[Scenario | BaseException]:
    return each_found(ids, await runs.scenarios_by_ids(db, ids), "scenario")


async def load_models(db: Database, ids: list[int]) -> list[LlmModel | BaseException]:
    return each_found(ids, await catalog.models_by_ids(db, ids), "model")


async def load_run_models(db: Database, run_ids: list[int]) -> list[list[LlmModel]]:
    return each_list(run_ids, await runs.run_models_by_run_ids(db, run_ids))


async def load_transcript_pages(
    db: Database, pages: list[runs.TranscriptPage]
) -> list[list[Transcript]]:
    found = await runs.transcript_pages(db, pages)
    return [found[page] for page in pages]


async def load_transcript_counts(db: Database, pages: list[runs.TranscriptPage]) -> list[int]:
    found = await runs.transcript_counts(db, pages)
    return [found[page] for page in pages]


async def load_cost_breakdowns(db: Database, run_ids: list[int]) -> list[runs.CostBreakdown]:
    found = await runs.cost_breakdowns_by_run_ids(db, run_ids)
    return [found[i] for i in run_ids]


async def load_probes(db: Database, ids: list[int]) -> list[Probe | BaseException]:
    return each_found(ids, await runs.probes_by_ids(db, ids), "probe")


async def load_attempts(db: Database, probe_ids: list[int]) -> list[list[ProbeAttempt]]:
    return each_list(probe_ids, await runs.attempts_by_probe_ids(db, probe_ids))


async def load_retryable_failure_counts(db: Database, run_ids: list[int]) -> list[int]:
    found = await runs.retryable_failure_counts(db, run_ids)
    return [found[i] for i in run_ids]

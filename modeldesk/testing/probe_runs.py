"""Providers served by the simulator and runs of N probes on them, for tests and benchmarks.

Everything goes through the real services (catalogue, definitions, runs), so
what the workers then see is exactly what an operator's run would give them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from sqlalchemy import select, text

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ModelCreate, ProviderCreate, create_model, create_provider
from modeldesk.db.job_queue import decode_payload
from modeldesk.db.reads import rows_grouped_by
from modeldesk.db.run_tables import Definition, Run, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import FINISHED_RUN_STATUSES
from modeldesk.runs.creation import create_run
from modeldesk.runs.definitions import create_definition
from modeldesk.runs.queries import get_run


def simulated_model_id(provider_name: str) -> str:
    """The provider's one model; configure the simulator under this name, tagged
    `provider=provider_name`, to count the provider's concurrency."""
    return f"{provider_name}-model"


async def add_simulated_provider(
    db: Database,
    actor: Principal,
    simulator_url: str,
    name: str,
    *,
    parallel: int = 1,
    requests_per_minute: int = 10_000,
    api_key_env: str | None = None,
) -> tuple[LlmProvider, LlmModel]:
    """An OpenAI-style provider at the simulator with one model.

    The simulator needs no key; name `api_key_env` for a provider that must
    count as available (keyed), as infrastructure models must.
    """
    provider = await create_provider(
        db,
        actor,
        ProviderCreate.parse(
            name=name,
            display_name=name.title(),
            api_style="OPENAI",
            base_url=simulator_url,
            api_key_env=api_key_env,
            max_parallel_requests=parallel,
            requests_per_minute=requests_per_minute,
        ),
    )
    model = await create_model(
        db,
        actor,
        ModelCreate.parse(
            provider_id=provider.id,
            model_id=simulated_model_id(name),
            display_name=f"{name} model",
            cost_input_per_million="1.00",
            cost_output_per_million="2.00",
            set_as_default=True,
        ),
    )
    return provider, model


async def question_definition(db: Database, actor: Principal, scenarios: int) -> Definition:
    """A definition of `scenarios` distinct prompts."""
    return await create_definition(
        db,
        actor,
        name=f"{scenarios} questions",
        template="Answer the question.",
        scenarios=[f"Question number {index}?" for index in range(scenarios)],
    )


async def run_on(
    db: Database, actor: Principal, definition: Definition, models: Sequence[LlmModel]
) -> Run:
    """Create (and so queue) a run of the definition on the models."""
    return await create_run(db, actor, definition.id, [str(model.id) for model in models])


async def queue_probe_run(
    db: Database, actor: Principal, models: Sequence[LlmModel], scenarios: int
) -> Run:
    """A run of `scenarios` distinct prompts on each model: `scenarios * len(models)` probes."""
    return await run_on(db, actor, await question_definition(db, actor, scenarios), models)


async def queued_probe_jobs(db: Database, entrypoint: str) -> list[tuple[int, int]]:
    """(probe id, priority) of the entrypoint's waiting jobs, in the order pgqueuer hands
    them out (`priority DESC, id`)."""
    async with db.session() as session:
        rows = await session.execute(
            text(
                "SELECT payload, priority FROM pgqueuer WHERE entrypoint = :e"
                " AND status = 'queued' ORDER BY priority DESC, id"
            ),
            {"e": entrypoint},
        )
        return [(int(decode_payload(payload)["probe_id"]), priority) for payload, priority in rows]


async def wait_for_run(db: Database, run_id: int, within: float = 60.0) -> Run:
    """Poll until the run has finished; raises TimeoutError with its progress otherwise."""
    deadline = time.monotonic() + within
    while True:
        run = await get_run(db, run_id)
        if run.status in FINISHED_RUN_STATUSES:
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"run {run_id} still {run.status} after {within} s: "
                f"{run.completed} completed, {run.failed} failed of {run.total}"
            )
        await asyncio.sleep(0.02)


async def transcripts_by_run_ids(
    db: Database, run_ids: Sequence[int]
) -> dict[int, list[Transcript]]:
    """Each run's transcripts, oldest first, all of them: for tests of small runs only
    (the product reads them in pages, `runs.transcript_pages`)."""
    oldest_first = select(Transcript).order_by(Transcript.id)
    return await rows_grouped_by(db, Transcript.run_id, run_ids, oldest_first)

"""Helpers shared by the runs tests (the fixtures live in conftest.py).

A module of its own, with a name no other test folder uses, so importing it
never picks up another folder's conftest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from sqlalchemy import select, text

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.run_tables import Definition, Probe
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.runs import (
    StepOutcome,
    create_definition,
    execute_expansion,
    execute_probe,
    prepare_expansion,
    request_scenario_expansion,
    scenarios_by_definition_ids,
)

KEY_VARIABLES = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "XAI_API_KEY",
    "DEEPSEEK_API_KEY",
    "MISTRAL_API_KEY",
)
# Short enough that no test waits, distinct enough to tell the steps apart.
BACKOFF = (0.5, 1.0, 1.5, 2.0)


async def model_pk(db: Database, model_id: str) -> int:
    async with db.session() as session:
        pk = await session.scalar(select(LlmModel.id).where(LlmModel.model_id == model_id))
    assert pk is not None, model_id
    return pk


async def make_definition(db: Database, actor: Principal, scenarios: int = 3) -> Definition:
    return await create_definition(
        db,
        actor,
        name="Greetings",
        preamble="Answer briefly.",
        template="Say hello to {{who}}.",
        dimensions=[{"name": "who", "levels": [f"person {i}" for i in range(scenarios)]}],
    )


async def requested_expansion(db: Database, actor: Principal) -> int:
    """A definition of three scenarios with an LLM expansion queued; returns its id."""
    definition = await make_definition(db, actor)
    await request_scenario_expansion(db, actor, definition.id)
    return definition.id


async def scenario_texts(db: Database, definition_id: int) -> list[str]:
    """The definition's current scenarios, in order."""
    scenarios = await scenarios_by_definition_ids(db, [definition_id])
    return [scenario.text for scenario in scenarios[definition_id]]


async def probe_ids(db: Database, run_id: int) -> list[int]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Probe.id).where(Probe.run_id == run_id).order_by(Probe.id)
        )
        return list(rows)


async def queued_jobs(db: Database, entrypoint: str) -> int:
    """Waiting pgqueuer jobs of an entrypoint."""
    async with db.session() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM pgqueuer WHERE entrypoint = :e AND status = 'queued'"),
            {"e": entrypoint},
        )
    return int(count or 0)


@dataclass
class Driver:
    """Plays the queue's part in-process for probes and expansions, following retries at once.

    It records every outcome, so tests can assert the delays the queue would wait.
    """

    db: Database
    settings: Settings
    client: httpx.AsyncClient
    outcomes: list[StepOutcome] = field(default_factory=list)

    async def step(self, probe_id: int) -> StepOutcome:
        outcome = await execute_probe(self.db, self.settings, self.client, probe_id)
        self.outcomes.append(outcome)
        return outcome

    async def until_done(self, probe_id: int, max_steps: int = 20) -> StepOutcome:
        for _ in range(max_steps):
            outcome = await self.step(probe_id)
            if outcome.kind == "done":
                return outcome
        raise AssertionError(f"probe {probe_id} still retrying after {max_steps} steps")

    async def expand_once(self, definition_id: int) -> StepOutcome | None:
        """What the `expand_scenarios` job does once admitted; None when it makes no call."""
        call = await prepare_expansion(self.db, definition_id)
        if call is None:
            return None
        return await execute_expansion(self.db, self.settings, self.client, call)

    async def run_all(self, run_id: int) -> None:
        for probe_id in await probe_ids(self.db, run_id):
            await self.until_done(probe_id)

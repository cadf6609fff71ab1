"""Judged runs on the simulator (SPEC 9.5): a judge and an analyst, and every step run in turn.

The judge answers by `replies` (first fragment found in its prompt wins), so a
test decides each answer's score; the analyst answers `report`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import httpx
from sqlalchemy import select

from modeldesk.auth.principal import Principal
from modeldesk.catalog import set_infra_model
from modeldesk.config import Settings
from modeldesk.db.run_tables import Probe, Run
from modeldesk.db.session import Database
from modeldesk.db.summary_tables import TranscriptSummary
from modeldesk.db.tables import LlmModel
from modeldesk.runs.analysis_step import execute_analysis
from modeldesk.runs.creation import create_run
from modeldesk.runs.definitions import create_definition
from modeldesk.runs.probe_step import execute_probe
from modeldesk.runs.summary_step import execute_summary
from modeldesk.testing.probe_runs import add_simulated_provider
from modeldesk.testing.simulator import Simulator

# Infrastructure models must have a key to be usable; the simulator needs none.
KEY_VARIABLE = "SIMULATOR_API_KEY"


def verdict(score: float, summary: str) -> str:
    """A judge's well-formed answer."""
    return json.dumps({"score": score, "summary": summary})


async def add_judge_and_analyst(
    db: Database,
    actor: Principal,
    sim: Simulator,
    *,
    replies: Sequence[tuple[str, str]] = (),
    judge_text: str | None = None,
    report: str = "The models differ little.",
) -> tuple[LlmModel, LlmModel]:
    """Simulated `judge` and `analyst` providers, set as the summarization and analysis
    models. The caller sets `KEY_VARIABLE` in the environment."""
    judge_provider, judge = await add_simulated_provider(
        db, actor, sim.url, "judge", api_key_env=KEY_VARIABLE
    )
    sim.configure(
        judge.model_id, provider=judge_provider.name, replies=list(replies), text=judge_text
    )
    analyst_provider, analyst = await add_simulated_provider(
        db, actor, sim.url, "analyst", api_key_env=KEY_VARIABLE
    )
    sim.configure(analyst.model_id, provider=analyst_provider.name, text=report)
    for purpose, provider_name, model in (
        ("summarization", judge_provider.name, judge),
        ("analysis", analyst_provider.name, analyst),
    ):
        await set_infra_model(db, actor, purpose, f"{provider_name}/{model.model_id}")
    return judge, analyst


async def judged_run(
    db: Database,
    actor: Principal,
    target: LlmModel,
    *,
    scenarios: int,
    max_cost: str | None = None,
) -> Run:
    """A summarizing run of `scenarios` questions on `target`, judged by a 0-10 rubric."""
    definition = await create_definition(
        db,
        actor,
        name="judged questions",
        template="Answer the question.",
        scenarios=[f"Question number {index}?" for index in range(scenarios)],
        rubric="Score 0-10 for correctness.",
    )
    return await create_run(db, actor, definition.id, [str(target.id)], max_cost=max_cost)


async def run_summaries(db: Database, run_id: int) -> list[TranscriptSummary]:
    """The run's summaries, in transcript order."""
    async with db.session() as session:
        return list(
            await session.scalars(
                select(TranscriptSummary)
                .where(TranscriptSummary.run_id == run_id)
                .order_by(TranscriptSummary.transcript_id)
            )
        )


async def run_every_step(db: Database, run_id: int) -> None:
    """What workers would do, in turn: each probe, each summary, then the analysis."""
    settings = Settings()
    async with db.session() as session:
        probes = list(await session.scalars(select(Probe.id).where(Probe.run_id == run_id)))
    async with httpx.AsyncClient() as client:
        for probe_id in probes:
            await execute_probe(db, settings, client, probe_id)
        async with db.session() as session:
            summaries = list(
                await session.scalars(
                    select(TranscriptSummary.transcript_id).where(
                        TranscriptSummary.run_id == run_id
                    )
                )
            )
        for transcript_id in summaries:
            while (await execute_summary(db, settings, client, transcript_id)).kind == "retry":
                pass
        await execute_analysis(db, settings, client, run_id)

"""Run control over GraphQL: maxCost, pauseRun, resumeRun, retryFailedProbes, attempts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql_client import GraphQLClient
from sqlalchemy import select, update
from test_graphql_authorization import MUTATIONS

from modeldesk.config import Settings
from modeldesk.db.run_tables import Probe
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.enums import RunStatus, TranscriptStatus
from modeldesk.runs import execute_probe
from modeldesk.testing import Outcome, Simulator

RUN_FIELDS = "id status maxCost retryableFailedCount progress { total completed failed skipped }"
CREATE_RUN = f"""
mutation($input: CreateRunInput!) {{ createRun(input: $input) {{ run {{ {RUN_FIELDS} }} }} }}"""
PAUSE = f"mutation($id: ID!) {{ pauseRun(id: $id) {{ run {{ {RUN_FIELDS} }} }} }}"
RESUME = f"mutation($id: ID!) {{ resumeRun(id: $id) {{ run {{ {RUN_FIELDS} }} }} }}"
RETRY = f"mutation($id: ID!) {{ retryFailedProbes(runId: $id) {{ run {{ {RUN_FIELDS} }} }} }}"
TRANSCRIPTS = """query($id: ID!) { run(id: $id) { status transcripts {
  status errorCode retryable attempts { startedAt errorCode message } } } }"""


@pytest.fixture
async def openai(seeded_db: Database, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """OpenAI's models answered by the session simulator."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-openai")
    async with seeded_db.transaction() as session:
        await session.execute(update(LlmProvider).values(base_url=sim.url))
    return sim


async def _run(gql: GraphQLClient, **extra: Any) -> dict[str, Any]:
    created = await gql.data(
        """mutation($input: CreateDefinitionInput!) {
             createDefinition(input: $input) { definition { id } } }""",
        {"input": {"name": "Two", "template": "Answer.", "scenarios": ["One?", "Two?"]}},
    )
    definition_id = created["createDefinition"]["definition"]["id"]
    variables = {"input": {"definitionId": definition_id, "models": ["openai/gpt-5-mini"], **extra}}
    run: dict[str, Any] = (await gql.data(CREATE_RUN, variables))["createRun"]["run"]
    return run


async def _execute_all(db: Database, run_id: str) -> None:
    async with db.session() as session:
        ids = list(await session.scalars(select(Probe.id).where(Probe.run_id == int(run_id))))
    settings = Settings(rate_limit_backoff=(0.1,))
    async with httpx.AsyncClient() as client:
        for probe_id in ids:
            while (await execute_probe(db, settings, client, probe_id)).kind == "retry":
                pass


def test_the_authorization_walk_covers_run_control() -> None:
    assert {"pauseRun", "resumeRun", "retryFailedProbes"} <= {name for name, _ in MUTATIONS}


async def test_max_cost_is_set_shown_and_validated(gql: GraphQLClient, openai: Simulator) -> None:
    run = await _run(gql, maxCost=2.5)
    assert (run["maxCost"], run["status"]) == (2.5, RunStatus.PENDING)
    assert (await _run(gql))["maxCost"] is None
    error = await gql.error(
        CREATE_RUN,
        {"input": {"definitionId": run["id"], "maxCost": -1}},  # any definition
    )
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "maxCost"


async def test_pause_and_resume(gql: GraphQLClient, openai: Simulator) -> None:
    run = await _run(gql)
    paused = (await gql.data(PAUSE, {"id": run["id"]}))["pauseRun"]["run"]
    assert paused["status"] == RunStatus.PAUSED
    listed = await gql.data("{ runs { id status } }")
    assert {"id": run["id"], "status": RunStatus.PAUSED} in listed["runs"]
    resumed = (await gql.data(RESUME, {"id": run["id"]}))["resumeRun"]["run"]
    assert resumed["status"] == RunStatus.PENDING


async def test_retry_failed_probes_with_attempts_and_retryable(
    seeded_db: Database, gql: GraphQLClient, openai: Simulator
) -> None:
    sim = openai
    sim.configure("gpt-5-mini", then=Outcome.rate_limit())
    run = await _run(gql)
    refused = await gql.error(RETRY, {"id": run["id"]})
    assert refused["extensions"]["code"] == "CONFLICT"
    assert "still pending" in refused["message"]

    await _execute_all(seeded_db, run["id"])
    failed = (await gql.data(TRANSCRIPTS, {"id": run["id"]}))["run"]
    assert failed["status"] == RunStatus.FAILED
    for transcript in failed["transcripts"]:
        assert (transcript["errorCode"], transcript["retryable"]) == ("RATE_LIMITED", True)
        assert [a["errorCode"] for a in transcript["attempts"]] == ["RATE_LIMITED"] * 2
        assert all(a["startedAt"] and "429" in a["message"] for a in transcript["attempts"])

    sim.configure("gpt-5-mini")
    retried = (await gql.data(RETRY, {"id": run["id"]}))["retryFailedProbes"]["run"]
    assert (retried["status"], retried["progress"]["failed"]) == (RunStatus.RUNNING, 0)
    await _execute_all(seeded_db, run["id"])
    done = (await gql.data(TRANSCRIPTS, {"id": run["id"]}))["run"]
    assert done["status"] == RunStatus.COMPLETED
    for transcript in done["transcripts"]:
        assert (transcript["status"], transcript["retryable"]) == (TranscriptStatus.SUCCEEDED, None)
        assert len(transcript["attempts"]) == 2  # the earlier failures stay visible


async def test_a_viewer_is_forbidden_run_control_on_a_real_run(
    gql: GraphQLClient, viewer_gql: GraphQLClient, openai: Simulator
) -> None:
    run = await _run(gql)
    for mutation in (PAUSE, RESUME, RETRY):
        error = await viewer_gql.error(mutation, {"id": run["id"]})
        assert error["extensions"]["code"] == "FORBIDDEN"
    status = await gql.data("query($id: ID!) { run(id: $id) { status } }", {"id": run["id"]})
    assert status["run"]["status"] == RunStatus.PENDING

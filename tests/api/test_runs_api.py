"""Definitions and runs over GraphQL: mutations, reads, costs, errors and batching."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql_client import GraphQLClient
from sqlalchemy import column, func, select, table, update
from test_graphql_batching import statements_for

from modeldesk.config import Settings
from modeldesk.db.job_queue import EXPANSION_ENTRYPOINT
from modeldesk.db.run_tables import Probe
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.enums import ExpansionStatus, RunStatus, TranscriptStatus
from modeldesk.runs import execute_probe
from modeldesk.testing import Simulator

CREATE_DEFINITION = """
mutation($input: CreateDefinitionInput!) {
  createDefinition(input: $input) {
    definition { id name preamble template dimensions { name levels } scenarios { text } }
  }
}"""
CREATE_RUN = """
mutation($input: CreateRunInput!) {
  createRun(input: $input) { run { id status progress { total completed failed } } }
}"""
RUN_DETAILS = """
query($id: ID!) {
  run(id: $id) {
    id status createdAt samplePercentage
    definition { name }
    models { modelId }
    progress { total completed failed }
    costBreakdown {
      totalCost unpriced
      perModel { model { modelId } inputTokens outputTokens cost probeCount }
    }
    transcripts { id scenario { text } model { modelId } status errorCode errorMessage response
                  inputTokens outputTokens estimatedCost costSnapshot durationMs }
  }
}"""
RUN_LIST = """{ runs { id definition { name scenarios { id } } models { modelId provider { name } }
  costBreakdown { totalCost perModel { model { modelId } } }
  transcripts { scenario { text } model { modelId } errorMessage } } }"""


@pytest.fixture
async def providers_on_simulator(
    seeded_db: Database, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> Simulator:
    monkeypatch.setenv("OPENAI_API_KEY", "test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-anthropic")
    async with seeded_db.transaction() as session:
        await session.execute(update(LlmProvider).values(base_url=sim.url))
    return sim


async def _execute_all(db: Database, run_id: str) -> None:
    async with db.session() as session:
        ids = list(await session.scalars(select(Probe.id).where(Probe.run_id == int(run_id))))
    async with httpx.AsyncClient() as client:
        for probe_id in ids:
            while (await execute_probe(db, Settings(), client, probe_id)).kind == "retry":
                pass


async def _definition(gql: GraphQLClient, levels: int = 2) -> dict[str, Any]:
    data = await gql.data(
        CREATE_DEFINITION,
        {
            "input": {
                "name": "Greetings",
                "preamble": "Be brief.",
                "template": "Greet {{who}}.",
                "dimensions": [{"name": "who", "levels": [f"guest {i}" for i in range(levels)]}],
            }
        },
    )
    definition: dict[str, Any] = data["createDefinition"]["definition"]
    return definition


async def test_create_definition_run_execute_and_read_costs(
    seeded_db: Database, gql: GraphQLClient, providers_on_simulator: Simulator
) -> None:
    sim = providers_on_simulator
    sim.configure("gpt-5-mini", input_tokens=1000, output_tokens=100, text="Hi!")
    sim.configure("claude-haiku-4-5", then="401")
    definition = await _definition(gql)
    assert definition["dimensions"] == [{"name": "who", "levels": ["guest 0", "guest 1"]}]
    assert [s["text"] for s in definition["scenarios"]] == ["Greet guest 0.", "Greet guest 1."]

    estimate = await gql.data(
        """query($id: ID!) { estimateRunCost(definitionId: $id, samplePercentage: 100) {
             scenarioCount totalCost unpriced
             perModel { model { modelId } basis basisDetail cost } } }""",
        {"id": definition["id"]},
    )
    assert estimate["estimateRunCost"]["scenarioCount"] == 2
    bases = {m["model"]["modelId"]: m["basis"] for m in estimate["estimateRunCost"]["perModel"]}
    assert bases == {"gpt-5-mini": "FALLBACK", "claude-haiku-4-5": "FALLBACK"}

    created = await gql.data(CREATE_RUN, {"input": {"definitionId": definition["id"]}})
    run = created["createRun"]["run"]
    assert run["status"] == RunStatus.PENDING
    assert run["progress"] == {"total": 4, "completed": 0, "failed": 0}

    await _execute_all(seeded_db, run["id"])
    details = (await gql.data(RUN_DETAILS, {"id": run["id"]}))["run"]
    assert details["status"] == RunStatus.COMPLETED
    assert details["progress"] == {"total": 4, "completed": 2, "failed": 2}
    assert [m["modelId"] for m in details["models"]] == ["gpt-5-mini", "claude-haiku-4-5"]
    breakdown = details["costBreakdown"]
    # 2 calls x (1000 x 0.25 + 100 x 2.00) / 1e6
    assert breakdown["totalCost"] == pytest.approx(0.0009)
    assert breakdown["perModel"][0] == {
        "model": {"modelId": "gpt-5-mini"},
        "inputTokens": 2000,
        "outputTokens": 200,
        "cost": pytest.approx(0.0009),
        "probeCount": 2,
    }
    failed = [t for t in details["transcripts"] if t["status"] == TranscriptStatus.FAILED]
    assert {t["errorCode"] for t in failed} == {"AUTH_FAILED"}
    assert all("401" in t["errorMessage"] for t in failed)
    succeeded = [t for t in details["transcripts"] if t["status"] == TranscriptStatus.SUCCEEDED]
    assert succeeded[0]["response"] == "Hi!"
    assert succeeded[0]["costSnapshot"]["costInputPerMillion"] == "0.25"
    assert succeeded[0]["errorMessage"] is None


async def test_refused_models_are_listed_in_extensions(
    gql: GraphQLClient, providers_on_simulator: Simulator
) -> None:
    definition = await _definition(gql)
    gpt_51 = await _model_id(gql, "gpt-5.1")
    await gql.data(
        "mutation($id: ID!) { deprecateLlmModel(id: $id) { model { id } } }", {"id": gpt_51}
    )
    error = await gql.error(
        CREATE_RUN, {"input": {"definitionId": definition["id"], "models": [gpt_51, "x/y"]}}
    )
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["message"] == (
        "These models cannot be used: openai/gpt-5.1 (GPT-5.1) is deprecated; "
        "model x/y does not exist."
    )
    assert error["extensions"]["models"] == [
        {
            "model": "openai/gpt-5.1",
            "displayName": "GPT-5.1",
            "id": gpt_51,
            "given": gpt_51,
            "code": "MODEL_DEPRECATED",
            "reason": "is deprecated",
        },
        {
            "model": "x/y",
            "displayName": None,
            "id": None,
            "given": "x/y",
            "code": "MODEL_NOT_FOUND",
            "reason": "does not exist",
        },
    ]
    only_unknown = await gql.error(
        CREATE_RUN, {"input": {"definitionId": definition["id"], "models": ["x/y"]}}
    )
    assert only_unknown["extensions"]["code"] == "MODEL_NOT_FOUND"


async def _model_id(gql: GraphQLClient, model_id: str) -> str:
    data = await gql.data(
        'query($m: String!) { llmModelByIdentifier(providerName: "openai", modelId: $m) { id } }',
        {"m": model_id},
    )
    model_pk: str = data["llmModelByIdentifier"]["id"]
    return model_pk


async def test_expansion_and_cancel_mutations(
    seeded_db: Database, gql: GraphQLClient, providers_on_simulator: Simulator
) -> None:
    definition = await _definition(gql, levels=3)
    expand = """mutation($id: ID!, $method: ExpansionMethod!) {
      expandScenarios(definitionId: $id, method: $method) {
        definition { expansionStatus scenarios { text } } } }"""
    queued = await gql.data(expand, {"id": definition["id"], "method": "LLM"})
    assert queued["expandScenarios"]["definition"]["expansionStatus"] == ExpansionStatus.QUEUED
    async with seeded_db.session() as session:
        jobs = await session.scalar(
            select(func.count())
            .select_from(table("pgqueuer"))
            .where(column("entrypoint") == EXPANSION_ENTRYPOINT)
        )
    assert jobs == 1
    combined = await gql.data(expand, {"id": definition["id"], "method": "COMBINATORIAL"})
    assert len(combined["expandScenarios"]["definition"]["scenarios"]) == 3

    run = (
        await gql.data(
            CREATE_RUN,
            {"input": {"definitionId": definition["id"], "models": ["openai/gpt-5-mini"]}},
        )
    )["createRun"]["run"]
    cancel = "mutation($id: ID!) { cancelRun(id: $id) { run { status progress { total } } } }"
    cancelled = await gql.data(cancel, {"id": run["id"]})
    assert cancelled["cancelRun"]["run"] == {
        "status": RunStatus.CANCELLED,
        "progress": {"total": 3},
    }
    listed = await gql.data("{ definitions { id name } }")
    assert listed["definitions"] == [{"id": definition["id"], "name": "Greetings"}]
    one = await gql.data(
        "query($id: ID!) { definition(id: $id) { name } }", {"id": definition["id"]}
    )
    assert one["definition"]["name"] == "Greetings"


async def test_viewers_read_runs_but_cannot_create_them(
    gql: GraphQLClient, viewer_gql: GraphQLClient, providers_on_simulator: Simulator
) -> None:
    definition = await _definition(gql)
    error = await viewer_gql.error(CREATE_RUN, {"input": {"definitionId": definition["id"]}})
    assert error["extensions"]["code"] == "FORBIDDEN"
    await gql.data(CREATE_RUN, {"input": {"definitionId": definition["id"]}})
    runs = await viewer_gql.data("{ runs { status definition { name } } }")
    assert runs["runs"] == [{"status": RunStatus.PENDING, "definition": {"name": "Greetings"}}]


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ('mutation { cancelRun(id: "999") { run { id } } }', "NOT_FOUND"),
        ('mutation { cancelRun(id: "abc") { run { id } } }', "VALIDATION_ERROR"),
        ("{ runs(limit: 0) { id } }", "VALIDATION_ERROR"),
        ("{ definitions(offset: -1) { id } }", "VALIDATION_ERROR"),
    ],
)
async def test_read_errors_carry_codes(
    gql: GraphQLClient, providers_on_simulator: Simulator, document: str, code: str
) -> None:
    assert (await gql.error(document))["extensions"]["code"] == code


async def test_run_lists_are_batched(
    seeded_db: Database, gql: GraphQLClient, providers_on_simulator: Simulator
) -> None:
    definition = await _definition(gql)

    async def add_run() -> None:
        created = await gql.data(CREATE_RUN, {"input": {"definitionId": definition["id"]}})
        await _execute_all(seeded_db, created["createRun"]["run"]["id"])

    await add_run()
    one_run = await statements_for(seeded_db, gql, RUN_LIST)
    for _ in range(3):
        await add_run()
    four_runs = await statements_for(seeded_db, gql, RUN_LIST)
    assert len(one_run) == len(four_runs), four_runs

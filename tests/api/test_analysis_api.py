"""Rubrics, judged summaries, infrastructure cost and the analysis over GraphQL (SPEC 9.5).

The steps a worker would run are run here one after another, on the simulator
as the target, the judge and the analyst, so the fields can be read at every stage.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql_client import GraphQLClient

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.enums import InfraWorkStatus
from modeldesk.testing import Simulator
from modeldesk.testing.judged_runs import (
    KEY_VARIABLE,
    add_judge_and_analyst,
    run_every_step,
    verdict,
)
from modeldesk.testing.probe_runs import add_simulated_provider

CREATE_DEFINITION = """
mutation($input: CreateDefinitionInput!) {
  createDefinition(input: $input) { definition { id rubric } }
}"""
CREATE_RUN = """
mutation($input: CreateRunInput!) { createRun(input: $input) { run { id summarize } } }"""
ESTIMATE = """
query($id: ID!) { estimateRunCost(definitionId: $id) { totalCost infrastructureCost
  perModel { cost } } }"""
RUN = """
query($id: ID!) {
  run(id: $id) {
    summarize
    costBreakdown { totalCost infrastructureCost perModel { cost } }
    transcripts { status response summary { status score summary errorCode } }
    analysis { status report
      perModel { model { modelId } scoredCount meanScore ciLow ciHigh } }
  }
}"""
REPORT = "target-model is the only model; it scored 6 to 8."


# The judge scores the answers to One?, Two? and Three? 6, 7 and 8, and to A? 5.
REPLIES = [
    (f"to: {scenario}", verdict(score, f"Scored {score}."))
    for scenario, score in (("One?", 6), ("Two?", 7), ("Three?", 8), ("A?", 5))
]


@pytest.fixture
async def judged(
    db: Database, admin: Principal, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A target model, a judge answering JSON and an analyst; returns the target's id."""
    monkeypatch.setenv(KEY_VARIABLE, "sk-simulated-key")
    _, target = await add_simulated_provider(db, admin, sim.url, "target")
    await add_judge_and_analyst(db, admin, sim, replies=REPLIES, report=REPORT)
    return str(target.id)


async def _definition(
    gql: GraphQLClient, name: str, scenarios: list[str], rubric: str
) -> dict[str, Any]:
    variables = {"name": name, "template": "Q", "scenarios": scenarios, "rubric": rubric}
    data = await gql.data(CREATE_DEFINITION, {"input": variables})
    definition: dict[str, Any] = data["createDefinition"]["definition"]
    return definition


async def _run(
    gql: GraphQLClient, definition_id: str, model: str, **options: bool
) -> dict[str, Any]:
    """A run of the definition on one model; `summarize` is left to the server unless given."""
    variables = {"definitionId": definition_id, "models": [model], **options}
    run: dict[str, Any] = (await gql.data(CREATE_RUN, {"input": variables}))["createRun"]["run"]
    return run


async def test_a_rubric_makes_runs_judged_costed_and_analysed(
    db: Database, gql: GraphQLClient, judged: str, sim: Simulator
) -> None:
    definition = await _definition(gql, "judged", ["One?", "Two?", "Three?"], "Score 0-10.")
    assert definition["rubric"] == "Score 0-10."
    estimate = (await gql.data(ESTIMATE, {"id": definition["id"]}))["estimateRunCost"]
    assert estimate["infrastructureCost"] > 0
    probes = sum(line["cost"] for line in estimate["perModel"])
    assert estimate["totalCost"] == pytest.approx(probes + estimate["infrastructureCost"])
    run = await _run(gql, definition["id"], judged)
    assert run["summarize"] is True
    pending = (await gql.data(RUN, {"id": run["id"]}))["run"]
    assert pending["analysis"] == {
        "status": InfraWorkStatus.PENDING,
        "report": None,
        "perModel": [],
    }

    await run_every_step(db, int(run["id"]))

    details = (await gql.data(RUN, {"id": run["id"]}))["run"]
    assert sorted(t["summary"]["score"] for t in details["transcripts"]) == [6, 7, 8]
    assert {t["summary"]["status"] for t in details["transcripts"]} == {InfraWorkStatus.COMPLETED}
    breakdown = details["costBreakdown"]
    assert breakdown["infrastructureCost"] > 0
    assert breakdown["totalCost"] == pytest.approx(
        breakdown["perModel"][0]["cost"] + breakdown["infrastructureCost"]
    )
    analysis = details["analysis"]
    assert analysis["status"] == InfraWorkStatus.COMPLETED and analysis["report"] == REPORT
    # 6, 7, 8: mean 7, se 1/sqrt(3), t(0.975, 2) = 4.302653: 7 -/+ 2.484138.
    [line] = analysis["perModel"]
    assert line["model"]["modelId"] == "target-model" and line["scoredCount"] == 3
    assert line["meanScore"] == pytest.approx(7)
    assert line["ciLow"] == pytest.approx(4.515862, abs=1e-5)
    assert line["ciHigh"] == pytest.approx(9.484138, abs=1e-5)


async def test_a_run_can_opt_out_and_a_failed_report_keeps_the_figures(
    db: Database, gql: GraphQLClient, judged: str, sim: Simulator
) -> None:
    definition = await _definition(gql, "d", ["A?"], "0-10")
    unjudged = await _run(gql, definition["id"], judged, summarize=False)
    assert unjudged["summarize"] is False
    assert (await gql.data(RUN, {"id": unjudged["id"]}))["run"]["analysis"] is None

    sim.configure("analyst-model", provider="analyst", outcomes=["400"])
    judged_run = await _run(gql, definition["id"], judged)
    await run_every_step(db, int(judged_run["id"]))
    analysis = (await gql.data(RUN, {"id": judged_run["id"]}))["run"]["analysis"]
    assert analysis["status"] == InfraWorkStatus.FAILED and analysis["report"] is None
    assert analysis["perModel"][0]["scoredCount"] == 1
    assert analysis["perModel"][0]["meanScore"] == 5


async def test_viewers_are_still_refused_definitions_and_runs(
    viewer_gql: GraphQLClient, judged: str
) -> None:
    error = await viewer_gql.error(
        CREATE_DEFINITION,
        {"input": {"name": "d", "template": "Q", "rubric": "Score 0-10."}},
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await viewer_gql.error(CREATE_RUN, {"input": {"definitionId": "1", "summarize": True}})
    assert error["extensions"]["code"] == "FORBIDDEN"

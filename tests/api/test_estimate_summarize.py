"""`estimateRunCost(summarize)`: the estimate includes the judge's calls as createRun would make
them (SPEC 9.5: `CreateRunInput.summarize`, default true when the definition has a rubric)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql_client import GraphQLClient

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.testing import Simulator
from modeldesk.testing.judged_runs import KEY_VARIABLE, add_judge_and_analyst, verdict
from modeldesk.testing.probe_runs import add_simulated_provider

CREATE_DEFINITION = """
mutation($input: CreateDefinitionInput!) {
  createDefinition(input: $input) { definition { id } } }"""
ESTIMATE = """
query($id: ID!, $summarize: Boolean) {
  estimateRunCost(definitionId: $id, summarize: $summarize) {
    totalCost infrastructureCost perModel { cost } } }"""


@pytest.fixture
async def judge(
    db: Database, admin: Principal, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target model (the default) and a judge set as the summarization model."""
    monkeypatch.setenv(KEY_VARIABLE, "sk-simulated-key")
    await add_simulated_provider(db, admin, sim.url, "target", api_key_env=KEY_VARIABLE)
    await add_judge_and_analyst(db, admin, sim, judge_text=verdict(7, "Fine."))


async def _definition(gql: GraphQLClient, rubric: str | None) -> str:
    created = await gql.data(
        CREATE_DEFINITION,
        {"input": {"name": "d", "template": "Q", "scenarios": ["A?", "B?"], "rubric": rubric}},
    )
    definition_id: str = created["createDefinition"]["definition"]["id"]
    return definition_id


async def _estimate(gql: GraphQLClient, definition_id: str, **summarize: bool) -> dict[str, Any]:
    found = await gql.data(ESTIMATE, {"id": definition_id, **summarize})
    estimate: dict[str, Any] = found["estimateRunCost"]
    probes = sum(line["cost"] for line in estimate["perModel"])
    assert estimate["totalCost"] == pytest.approx(probes + estimate["infrastructureCost"])
    return estimate


@pytest.mark.usefixtures("judge")
async def test_the_estimate_judges_as_the_run_would_by_default_and_when_asked(
    gql: GraphQLClient,
) -> None:
    with_rubric = await _definition(gql, "Score 0-10.")
    without = await _definition(gql, None)

    by_default = await _estimate(gql, with_rubric)
    opted_out = await _estimate(gql, with_rubric, summarize=False)
    plain = await _estimate(gql, without)
    opted_in = await _estimate(gql, without, summarize=True)

    assert by_default["infrastructureCost"] > 0
    assert opted_out["infrastructureCost"] == 0
    assert opted_out["totalCost"] == pytest.approx(
        by_default["totalCost"] - by_default["infrastructureCost"]
    )
    assert plain["infrastructureCost"] == 0
    assert opted_in["infrastructureCost"] > 0

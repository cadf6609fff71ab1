"""LLM scenario expansion: the infrastructure model, its fallback, and never losing scenarios."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from runs_support import (
    KEY_VARIABLES,
    Driver,
    make_definition,
    queued_jobs,
    requested_expansion,
    scenario_texts,
)

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.job_queue import EXPANSION_ENTRYPOINT
from modeldesk.db.session import Database
from modeldesk.enums import ExpansionStatus
from modeldesk.errors import ForbiddenError, NotFoundError
from modeldesk.runs import (
    execute_expansion,
    get_definition,
    prepare_expansion,
    request_scenario_expansion,
)
from modeldesk.runs.expansion_prompt import (
    SCENARIOS_REQUESTED,
    ExpansionAnswerError,
    parse_scenarios,
)
from modeldesk.testing import Outcome, Simulator


async def test_expansion_is_queued_then_uses_the_infrastructure_model(
    catalog: Database,
    admin: Principal,
    sim: Simulator,
    driver: Driver,
) -> None:
    definition = await make_definition(catalog, admin)
    queued = await request_scenario_expansion(catalog, admin, definition.id)
    assert queued.expansion_status == ExpansionStatus.QUEUED
    assert await queued_jobs(catalog, EXPANSION_ENTRYPOINT) == 1

    answer = ["Say hello to a sailor.", "Say hello to a pilot.", "Say hello to a sailor."]
    sim.configure("gpt-5-mini", text="```json\n" + json.dumps(answer) + "\n```")
    outcome = await driver.expand_once(definition.id)
    assert outcome is not None and outcome.kind == "done"

    assert await scenario_texts(catalog, definition.id) == [
        "Say hello to a sailor.",
        "Say hello to a pilot.",
    ]
    assert (
        await get_definition(catalog, definition.id)
    ).expansion_status == ExpansionStatus.SUCCEEDED
    requests = sim.requests()
    assert [r.model for r in requests] == ["gpt-5-mini"]
    prompt = requests[0].body["messages"][-1]["content"]
    assert "Say hello to {{who}}." in prompt
    assert "who: person 0, person 1, person 2" in prompt


async def test_expansion_falls_back_to_the_cheapest_usable_model(
    catalog: Database,
    admin: Principal,
    sim: Simulator,
    settings: Settings,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("OPENAI_API_KEY", "XAI_API_KEY", "DEEPSEEK_API_KEY"):
        monkeypatch.delenv(variable)
    definition_id = await requested_expansion(catalog, admin)
    sim.configure("*", text='["A generated scenario."]')
    call = await prepare_expansion(catalog, definition_id)
    assert call is not None and call.is_fallback
    assert "fallback model" in call.label
    await execute_expansion(catalog, settings, client, call)
    # Mistral Large (0.50 + 1.50) is the cheapest active model whose provider has a key.
    assert [r.model for r in sim.requests()] == ["mistral-large-2512"]
    assert await scenario_texts(catalog, definition_id) == ["A generated scenario."]


@pytest.mark.parametrize(
    ("configure", "expected_error"),
    [
        ({"text": "I cannot help with that."}, "did not answer with a JSON list"),
        ({"text": "[]"}, "did not answer with a JSON list"),
        ({"outcomes": [Outcome.error(401)]}, "AUTH_FAILED"),
    ],
)
async def test_failed_expansion_keeps_the_old_scenarios(
    catalog: Database,
    admin: Principal,
    sim: Simulator,
    driver: Driver,
    configure: dict[str, Any],
    expected_error: str,
) -> None:
    definition_id = await requested_expansion(catalog, admin)
    before = await scenario_texts(catalog, definition_id)
    sim.configure("gpt-5-mini", **configure)
    outcome = await driver.expand_once(definition_id)
    assert outcome is not None and outcome.kind == "done"
    assert len(sim.requests()) == 1  # failures like these are not retried
    assert await scenario_texts(catalog, definition_id) == before
    failed = await get_definition(catalog, definition_id)
    assert failed.expansion_status == ExpansionStatus.FAILED
    assert expected_error in (failed.expansion_error or "")


async def test_expansion_without_any_usable_model_is_recorded(
    catalog: Database,
    admin: Principal,
    sim: Simulator,
    driver: Driver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in KEY_VARIABLES:
        monkeypatch.delenv(variable)
    definition_id = await requested_expansion(catalog, admin)
    assert await driver.expand_once(definition_id) is None
    failed = await get_definition(catalog, definition_id)
    assert failed.expansion_status == ExpansionStatus.FAILED
    assert "MODEL_NOT_FOUND" in (failed.expansion_error or "")
    assert sim.requests() == []
    assert len(await scenario_texts(catalog, definition_id)) == 3


async def test_expansion_requests_need_an_admin_and_a_definition(
    catalog: Database, admin: Principal, viewer: Principal
) -> None:
    definition = await make_definition(catalog, admin)
    with pytest.raises(ForbiddenError):
        await request_scenario_expansion(catalog, viewer, definition.id)
    with pytest.raises(NotFoundError):
        await request_scenario_expansion(catalog, admin, 999)
    assert await queued_jobs(catalog, EXPANSION_ENTRYPOINT) == 0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('["a", "b"]', ["a", "b"]),
        ('Here you go:\n["a", " b ", ""]\nEnjoy!', ["a", "b"]),
        ('```\n{"scenarios": ["a"]}\n```', ["a"]),
        ('[{"text": "a"}, {"prompt": "b"}, {"other": 1}, 7]', ["a", "b"]),
        ("```json\nnot json\n```\n" + '["fallback"]', ["fallback"]),
    ],
)
def test_answers_are_parsed_robustly(answer: str, expected: list[str]) -> None:
    assert parse_scenarios(answer) == expected


def test_parsed_answers_are_bounded() -> None:
    many = json.dumps([f"s{i}" for i in range(SCENARIOS_REQUESTED + 5)])
    assert len(parse_scenarios(many)) == SCENARIOS_REQUESTED


@pytest.mark.parametrize("answer", ["", "no list here", '{"other": []}', '["x" * 3'])
def test_unparseable_answers_are_errors(answer: str) -> None:
    with pytest.raises(ExpansionAnswerError):
        parse_scenarios(answer)

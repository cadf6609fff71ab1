"""LLM expansion under the backoff policy: rate limits, transient failures, bugs, re-deliveries."""

from __future__ import annotations

import pytest
from runs_support import BACKOFF, Driver, requested_expansion, scenario_texts

from modeldesk.auth.principal import Principal
from modeldesk.catalog import get_provider_by_name
from modeldesk.db.run_tables import Definition
from modeldesk.db.session import Database
from modeldesk.enums import ExpansionStatus
from modeldesk.runs import (
    get_definition,
    handle_expansion_internal_error,
    request_scenario_expansion,
)
from modeldesk.runs.step_outcome import MAX_INTERNAL_ERRORS
from modeldesk.testing import Outcome, Simulator


@pytest.fixture
async def definition_id(catalog: Database, admin: Principal) -> int:
    return await requested_expansion(catalog, admin)


def _counters(definition: Definition) -> tuple[int, int, int]:
    return (
        definition.expansion_rate_limit_retries,
        definition.expansion_transient_retries,
        definition.expansion_internal_errors,
    )


async def test_rate_limits_climb_the_schedule_then_fail_keeping_the_old_scenarios(
    catalog: Database,
    definition_id: int,
    sim: Simulator,
    driver: Driver,
) -> None:
    openai = await get_provider_by_name(catalog, "openai")
    before = await scenario_texts(catalog, definition_id)
    sim.configure("gpt-5-mini", then=Outcome.rate_limit())

    retries = []
    for _ in BACKOFF:
        outcome = await driver.expand_once(definition_id)
        assert outcome is not None and outcome.kind == "retry"
        assert (outcome.provider_id, outcome.hold_provider) == (openai.id, True)
        retries.append(outcome.delay_seconds)
        assert (
            await get_definition(catalog, definition_id)
        ).expansion_status == ExpansionStatus.QUEUED
    assert retries == list(BACKOFF)

    last = await driver.expand_once(definition_id)
    assert last is not None and last.kind == "done"
    failed = await get_definition(catalog, definition_id)
    assert failed.expansion_status == ExpansionStatus.FAILED
    assert (failed.expansion_error or "").startswith("RATE_LIMITED: still rate limited after 4")
    assert _counters(failed) == (len(BACKOFF), 0, 0)
    assert await scenario_texts(catalog, definition_id) == before
    assert len(sim.requests()) == len(BACKOFF) + 1


async def test_a_transient_failure_retries_without_holding_the_provider(
    catalog: Database,
    definition_id: int,
    sim: Simulator,
    driver: Driver,
) -> None:
    sim.configure("gpt-5-mini", outcomes=["503"], text='["After a hiccup."]')

    retry = await driver.expand_once(definition_id)
    assert retry is not None and (retry.kind, retry.hold_provider) == ("retry", False)
    assert 0 < retry.delay_seconds <= 1.0
    assert _counters(await get_definition(catalog, definition_id)) == (0, 1, 0)

    done = await driver.expand_once(definition_id)
    assert done is not None and done.kind == "done"
    assert (
        await get_definition(catalog, definition_id)
    ).expansion_status == ExpansionStatus.SUCCEEDED
    assert await scenario_texts(catalog, definition_id) == ["After a hiccup."]


async def test_a_finished_expansion_delivered_again_makes_no_call(
    catalog: Database,
    definition_id: int,
    sim: Simulator,
    driver: Driver,
) -> None:
    sim.configure("gpt-5-mini", text='["Only once."]')
    await driver.expand_once(definition_id)
    assert await driver.expand_once(definition_id) is None
    assert len(sim.requests()) == 1
    # A bug reported late changes nothing either.
    late = await handle_expansion_internal_error(catalog, definition_id, RuntimeError("late"))
    assert late.kind == "done"
    finished = await get_definition(catalog, definition_id)
    assert (finished.expansion_status, finished.expansion_internal_errors) == (
        ExpansionStatus.SUCCEEDED,
        0,
    )


async def test_a_new_request_starts_the_schedule_again(
    catalog: Database,
    admin: Principal,
    definition_id: int,
    sim: Simulator,
    driver: Driver,
) -> None:
    sim.configure("gpt-5-mini", then=Outcome.rate_limit())
    await driver.expand_once(definition_id)
    await handle_expansion_internal_error(catalog, definition_id, RuntimeError("boom"))
    assert _counters(await get_definition(catalog, definition_id)) == (1, 0, 1)

    again = await request_scenario_expansion(catalog, admin, definition_id)
    assert (again.expansion_status, _counters(again)) == (ExpansionStatus.QUEUED, (0, 0, 0))


async def test_a_bug_in_the_expansion_retries_then_ends_it_as_failed(
    catalog: Database, definition_id: int
) -> None:
    before = await scenario_texts(catalog, definition_id)
    bug = KeyError("choices")

    delays = []
    for _ in range(MAX_INTERNAL_ERRORS - 1):
        outcome = await handle_expansion_internal_error(catalog, definition_id, bug)
        assert (outcome.kind, outcome.hold_provider) == ("retry", False)
        delays.append(outcome.delay_seconds)
        assert (
            await get_definition(catalog, definition_id)
        ).expansion_status == ExpansionStatus.QUEUED
    assert delays == [2.0, 4.0]

    final = await handle_expansion_internal_error(catalog, definition_id, bug)
    assert final.kind == "done"
    failed = await get_definition(catalog, definition_id)
    assert failed.expansion_status == ExpansionStatus.FAILED
    assert failed.expansion_error == (
        "PROVIDER_ERROR: internal error in the expansion step: KeyError: 'choices'"
    )
    assert await scenario_texts(catalog, definition_id) == before

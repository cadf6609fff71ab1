"""Run creation against a concurrent deprecate or provider disable.

The target models are checked under share locks in the transaction that inserts
the run, so a catalogue change at that moment either makes the run refused or
commits only after the run exists. Each test here fails when the check runs
outside that transaction (as it did in release 1).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

import pytest
from runs_support import make_definition, model_pk
from sqlalchemy import event, func, select, text, update

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ProviderUpdate,
    deprecate_model,
    get_provider_by_name,
    reactivate_model,
    update_provider,
)
from modeldesk.db.run_tables import RunModel
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.errors import ModelDeprecatedError, ModeldeskError, ProviderDisabledError
from modeldesk.runs import create_run, list_runs

Change = Literal["deprecate", "disable"]
ROUNDS = 20
REFUSAL: dict[Change, type[ModeldeskError]] = {
    "deprecate": ModelDeprecatedError,
    "disable": ProviderDisabledError,
}


@pytest.fixture
async def second_db(catalog: Database) -> AsyncIterator[Database]:
    """Another engine on the same database: its own connections, as another process has."""
    other = Database(catalog.url, pool_size=2)
    try:
        yield other
    finally:
        await other.dispose()


@pytest.fixture(params=["deprecate", "disable"])
def change(request: pytest.FixtureRequest) -> Change:
    chosen: Change = request.param
    return chosen


async def _gpt_51_run_parts(db: Database, admin: Principal, scenarios: int) -> tuple[int, int, int]:
    """A definition's id, then gpt-5.1's and its provider's (openai), for a run to target."""
    definition = await make_definition(db, admin, scenarios=scenarios)
    pk = await model_pk(db, "gpt-5.1")
    provider = await get_provider_by_name(db, "openai")
    return definition.id, pk, provider.id


async def _until_a_backend_waits_on_a_lock(db: Database, within: float = 10.0) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(within):
        while True:
            async with db.session() as session:
                if await session.scalar(query):
                    return
            await asyncio.sleep(0.02)


async def test_run_creation_waits_for_a_change_in_flight_and_then_refuses(
    catalog: Database, second_db: Database, admin: Principal, change: Change
) -> None:
    definition_id, pk, provider = await _gpt_51_run_parts(catalog, admin, scenarios=1)
    # The change's transaction held open: the same row locks, in the same order
    # (provider, then model), that `deprecate_model` and `update_provider` take.
    async with catalog.transaction() as session:
        await session.execute(
            select(LlmProvider.id).where(LlmProvider.id == provider).with_for_update()
        )
        if change == "deprecate":
            await session.execute(select(LlmModel.id).where(LlmModel.id == pk).with_for_update())
            await session.execute(
                update(LlmModel).where(LlmModel.id == pk).values(status="DEPRECATED")
            )
        else:
            await session.execute(
                update(LlmProvider).where(LlmProvider.id == provider).values(is_enabled=False)
            )
        creating = asyncio.create_task(create_run(second_db, admin, definition_id, [str(pk)]))
        await _until_a_backend_waits_on_a_lock(second_db)
        assert not creating.done()
    with pytest.raises(REFUSAL[change]) as caught:
        await creating
    assert "openai/gpt-5.1 (GPT-5.1)" in caught.value.message
    assert await list_runs(catalog) == []


async def _restore(
    db: Database, admin: Principal, change: Change, model: int, provider: int
) -> None:
    if change == "deprecate":
        await reactivate_model(db, admin, model)
    else:
        await update_provider(db, admin, provider, ProviderUpdate(is_enabled=True))


def _apply(
    db: Database, admin: Principal, change: Change, model: int, provider: int
) -> Callable[[], Awaitable[Any]]:
    if change == "deprecate":
        return lambda: deprecate_model(db, admin, model)
    return lambda: update_provider(db, admin, provider, ProviderUpdate(is_enabled=False))


async def test_create_run_racing_a_change_never_targets_a_model_changed_before_it(
    catalog: Database, second_db: Database, admin: Principal, change: Change
) -> None:
    """Either the run is refused, or the change committed after the run did."""
    definition_id, pk, provider = await _gpt_51_run_parts(catalog, admin, scenarios=3)
    apply_change = _apply(second_db, admin, change, pk, provider)
    run_commits_sent: list[float] = []
    event.listen(
        catalog.engine.sync_engine,
        "commit",
        lambda _conn: run_commits_sent.append(time.monotonic()),
    )

    async def create() -> int | None:
        try:
            return (await create_run(catalog, admin, definition_id, [str(pk)])).id
        except REFUSAL[change]:
            return None

    async def change_committed_at() -> float:
        await apply_change()
        return time.monotonic()

    outcomes = {"created": 0, "refused": 0}
    for round_number in range(ROUNDS):
        await _restore(catalog, admin, change, pk, provider)
        run_commits_sent.clear()
        # Alternate which side is scheduled first, so both orders are tried.
        if round_number % 2:
            changed_at, run_id = await asyncio.gather(change_committed_at(), create())
        else:
            run_id, changed_at = await asyncio.gather(create(), change_committed_at())
        if run_id is None:
            outcomes["refused"] += 1
            continue
        outcomes["created"] += 1
        # The change returned (so had committed) before the run's COMMIT was even sent:
        # the run was checked against a catalogue that no longer held.
        assert changed_at > run_commits_sent[-1], f"round {round_number}: {change} slipped past"
    assert sum(outcomes.values()) == ROUNDS
    async with catalog.session() as session:
        targets = await session.scalar(
            select(func.count()).select_from(RunModel).where(RunModel.model_id == pk)
        )
    assert targets == outcomes["created"]

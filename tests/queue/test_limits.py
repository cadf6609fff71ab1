"""Each worker keeps one entrypoint per provider in step with the catalogue."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest
from pgqueuer.adapters.drivers.asyncpg import AsyncpgPoolDriver
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.models import Job
from pgqueuer.domain.types import QueueEntrypoint
from queue_support import concurrency_limit

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ProviderUpdate, update_provider
from modeldesk.db.session import Database
from modeldesk.queue.limits import ProviderEntrypoints, ProviderLimits, load_provider_limits
from modeldesk.queue.manager import ProviderQueueManager
from modeldesk.testing.probe_runs import add_simulated_provider

UNUSED_URL = "http://127.0.0.1:9"


class Registry:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.manager = ProviderQueueManager(Queries(AsyncpgPoolDriver(pool)))
        self.handlers: list[str] = []
        self.entrypoints = ProviderEntrypoints(self.manager, self._handler_for)

    def _handler_for(self, provider: ProviderLimits) -> object:
        self.handlers.append(provider.name)

        async def handle(job: Job) -> None:
            return None

        return handle

    def limit(self, name: str) -> int:
        return concurrency_limit(self.manager, f"probe.{name}")

    def runnable(self) -> set[str]:
        return set(self.manager.entrypoints_below_capacity_limits())


@pytest.fixture
def registry(gate_pool: asyncpg.Pool) -> Registry:
    return Registry(gate_pool)


async def test_providers_get_entrypoints_with_their_limits(
    db: Database, admin: Principal, registry: Registry
) -> None:
    await add_simulated_provider(db, admin, UNUSED_URL, "alpha", parallel=3)
    await add_simulated_provider(db, admin, UNUSED_URL, "beta", parallel=1)
    await registry.entrypoints.refresh(db)
    assert registry.limit("alpha") == 3
    assert registry.limit("beta") == 1
    assert registry.runnable() == {QueueEntrypoint("probe.alpha"), QueueEntrypoint("probe.beta")}


async def test_changes_apply_in_place_and_new_providers_join(
    db: Database, admin: Principal, registry: Registry
) -> None:
    alpha, _ = await add_simulated_provider(db, admin, UNUSED_URL, "alpha", parallel=3)
    await registry.entrypoints.refresh(db)
    await update_provider(db, admin, alpha.id, ProviderUpdate.parse(max_parallel_requests=7))
    await add_simulated_provider(db, admin, UNUSED_URL, "gamma", parallel=2)
    await registry.entrypoints.refresh(db)
    await registry.entrypoints.refresh(db)  # nothing changed: nothing re-registered
    assert registry.limit("alpha") == 7
    assert registry.limit("gamma") == 2
    assert registry.handlers == ["alpha", "gamma"]


async def test_a_disabled_provider_is_paused_until_enabled(
    db: Database, admin: Principal, registry: Registry
) -> None:
    alpha, _ = await add_simulated_provider(db, admin, UNUSED_URL, "alpha")
    await registry.entrypoints.refresh(db)
    await update_provider(db, admin, alpha.id, ProviderUpdate.parse(is_enabled=False))
    await registry.entrypoints.refresh(db)
    assert registry.runnable() == set()
    await update_provider(db, admin, alpha.id, ProviderUpdate.parse(is_enabled=True))
    await registry.entrypoints.refresh(db)
    assert registry.runnable() == {QueueEntrypoint("probe.alpha")}


async def test_zero_parallel_requests_runs_one_at_a_time_with_a_warning(
    db: Database, admin: Principal, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    await add_simulated_provider(db, admin, UNUSED_URL, "alpha", parallel=0)
    with caplog.at_level(logging.WARNING, logger="modeldesk.queue.limits"):
        await registry.entrypoints.refresh(db)
        await registry.entrypoints.refresh(db)
    assert registry.limit("alpha") == 1
    warnings = [r for r in caplog.records if "max_parallel_requests 0" in r.getMessage()]
    assert len(warnings) == 1  # once, not at every refresh


async def test_refreshing_until_stopped_and_a_failed_read_raises(
    db: Database, admin: Principal, registry: Registry
) -> None:
    await add_simulated_provider(db, admin, UNUSED_URL, "alpha", parallel=2)
    stop = asyncio.Event()
    refreshing = asyncio.create_task(registry.entrypoints.keep_refreshed(db, 0.05, stop))
    await asyncio.sleep(0.3)
    stop.set()
    await refreshing
    assert registry.limit("alpha") == 2
    assert [p.name for p in await load_provider_limits(db)] == ["alpha"]

    # Limits that can no longer be read may be stale: the worker's session ends
    # on this and reconnects (tests/queue/test_worker.py), rather than run on them.
    unreachable = Database("postgresql://nobody@127.0.0.1:1/none")
    stop.clear()
    try:
        with pytest.raises(OSError):
            await asyncio.wait_for(
                registry.entrypoints.keep_refreshed(unreachable, 0.05, stop), timeout=5
            )
    finally:
        await unreachable.dispose()

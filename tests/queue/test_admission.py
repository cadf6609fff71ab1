"""The fleet-wide gate before every call: enabled, not held, room in the 60 s window."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from queue_support import provider_held_until

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ProviderUpdate, update_provider
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.queue.admission import AdmissionReason, admit_call
from modeldesk.queue.holds import hold_provider
from modeldesk.testing.probe_runs import add_simulated_provider

UNUSED_URL = "http://127.0.0.1:9"  # nothing is called here


@pytest.fixture
async def provider(db: Database, admin: Principal) -> LlmProvider:
    provider, _ = await add_simulated_provider(
        db, admin, UNUSED_URL, "gated", requests_per_minute=3
    )
    return provider


async def _set(db: Database, admin: Principal, provider: LlmProvider, **changes: Any) -> None:
    await update_provider(db, admin, provider.id, ProviderUpdate.parse(**changes))


async def _age_starts(pool: asyncpg.Pool, provider: LlmProvider, lanes: list[int]) -> None:
    """Make these lanes' starts 61 s old, as if a minute had passed for them."""
    await pool.execute(
        "UPDATE provider_request_starts SET started_at = started_at - interval '61 seconds'"
        " WHERE provider_id = $1 AND lane = ANY($2::int[])",
        provider.id,
        lanes,
    )


async def _admitted(pool: asyncpg.Pool, provider: LlmProvider, calls: int) -> list[bool]:
    """Whether each of `calls` admissions in a row let its call start."""
    return [(await admit_call(pool, provider.id)).admitted for _ in range(calls)]


async def test_no_more_starts_than_the_limit_in_a_minute(
    gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    admissions = [await admit_call(gate_pool, provider.id) for _ in range(4)]
    assert [a.admitted for a in admissions] == [True, True, True, False]
    refused = admissions[-1]
    assert refused.reason is AdmissionReason.RATE_WINDOW
    assert refused.wait_seconds is not None and 58 < refused.wait_seconds <= 60


async def test_turned_away_calls_come_back_one_by_one(
    db: Database, admin: Principal, gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    await _set(db, admin, provider, requests_per_minute=2)
    assert await _admitted(gate_pool, provider, 2) == [True, True]
    waits = [(await admit_call(gate_pool, provider.id)).wait_seconds for _ in range(4)]
    # a turn every 60 s / 2 after the window's first free slot, at most 2 minutes ahead
    expected = [60, 90, 120, 120]
    assert all(w is not None and e - 2 < w <= e for w, e in zip(waits, expected, strict=True))


async def test_concurrent_workers_share_one_window(
    db: Database, admin: Principal, gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    await _set(db, admin, provider, requests_per_minute=5)
    pools = [gate_pool, await asyncpg.create_pool(db.url, min_size=5, max_size=5)]
    try:
        admissions = await asyncio.gather(
            *(admit_call(pools[n % 2], provider.id) for n in range(20))
        )
    finally:
        await pools[1].close()
    assert sum(a.admitted for a in admissions) == 5


async def test_a_lane_frees_when_its_start_is_a_minute_old(
    gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    assert await _admitted(gate_pool, provider, 3) == [True] * 3
    await _age_starts(gate_pool, provider, [1])
    assert await _admitted(gate_pool, provider, 2) == [True, False]
    lanes = await gate_pool.fetchval(
        "SELECT count(*) FROM provider_request_starts WHERE provider_id = $1", provider.id
    )
    assert lanes == 3  # the table never grows past the limit


async def test_a_lower_limit_still_counts_the_latest_starts(
    db: Database, admin: Principal, gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    await _set(db, admin, provider, requests_per_minute=4)
    assert await _admitted(gate_pool, provider, 4) == [True] * 4
    await _age_starts(gate_pool, provider, [0, 1])  # two starts left in the window

    await _set(db, admin, provider, requests_per_minute=2)
    assert (await admit_call(gate_pool, provider.id)).reason is AdmissionReason.RATE_WINDOW
    await _set(db, admin, provider, requests_per_minute=3)
    assert await _admitted(gate_pool, provider, 2) == [True, False]


async def test_zero_requests_per_minute_counts_as_one(
    db: Database, admin: Principal, gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    await _set(db, admin, provider, requests_per_minute=0)
    assert await _admitted(gate_pool, provider, 2) == [True, False]


async def test_a_disabled_provider_admits_nothing(
    db: Database, admin: Principal, gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    await _set(db, admin, provider, is_enabled=False)
    admission = await admit_call(gate_pool, provider.id)
    assert admission.reason is AdmissionReason.DISABLED
    assert admission.wait_seconds is None
    await _set(db, admin, provider, is_enabled=True)
    assert (await admit_call(gate_pool, provider.id)).admitted


async def test_a_held_provider_waits_out_its_hold(
    gate_pool: asyncpg.Pool, provider: LlmProvider
) -> None:
    await hold_provider(gate_pool, provider.id, 30, reason="rate limited")
    admission = await admit_call(gate_pool, provider.id)
    assert admission.reason is AdmissionReason.HELD
    assert admission.wait_seconds is not None and 28 < admission.wait_seconds <= 30
    starts = await gate_pool.fetchval("SELECT count(*) FROM provider_request_starts")
    assert starts == 0  # a held call takes no slot of the window


async def test_a_hold_only_ever_moves_later(gate_pool: asyncpg.Pool, provider: LlmProvider) -> None:
    long_hold = await hold_provider(gate_pool, provider.id, 30, reason="first")
    assert await hold_provider(gate_pool, provider.id, 1, reason="second") == long_hold
    assert await provider_held_until(gate_pool, provider.id) == long_hold
    later = await hold_provider(gate_pool, provider.id, 60, reason="third")
    assert later > long_hold
    reason = await gate_pool.fetchval(
        "SELECT reason FROM provider_holds WHERE provider_id = $1", provider.id
    )
    assert reason == "third"


async def test_an_ended_hold_is_no_hold(gate_pool: asyncpg.Pool, provider: LlmProvider) -> None:
    await hold_provider(gate_pool, provider.id, 0.05, reason="short")
    await asyncio.sleep(0.1)
    assert await provider_held_until(gate_pool, provider.id) is None
    assert (await admit_call(gate_pool, provider.id)).admitted

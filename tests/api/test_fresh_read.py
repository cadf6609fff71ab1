"""FreshRead: callers share queries, and nobody is answered by a query sent before it called."""

from __future__ import annotations

import asyncio

import pytest

from modeldesk.api.fresh_read import FreshRead


class GatedSource:
    """A source whose fetch answers the value as it was when sent (like a query's snapshot),
    once the test lets it finish."""

    def __init__(self) -> None:
        self.value = 0
        self.started = 0
        self.gates: list[asyncio.Event] = []

    async def fetch(self) -> int:
        self.started += 1
        snapshot = self.value
        gate = asyncio.Event()
        self.gates.append(gate)
        await gate.wait()
        return snapshot

    async def finish(self, fetch_number: int) -> None:
        while len(self.gates) < fetch_number:  # noqa: ASYNC110 - waiting for the fetch to begin
            await asyncio.sleep(0)
        self.gates[fetch_number - 1].set()


async def test_callers_during_a_query_share_the_next_one_not_that_one() -> None:
    source = GatedSource()
    read = FreshRead(source.fetch)
    source.value = 1
    first = asyncio.create_task(read.read())
    await asyncio.sleep(0)
    assert source.started == 1

    source.value = 2  # changes after the first query was sent: it may answer 1
    later = [asyncio.create_task(read.read()) for _ in range(5)]
    await source.finish(1)
    assert await first == 1
    await source.finish(2)
    assert await asyncio.gather(*later) == [2] * 5
    assert source.started == read.queries == 2


async def test_a_caller_after_an_answer_sends_a_new_query() -> None:
    source = GatedSource()
    read = FreshRead(source.fetch)
    for value in (1, 2, 3):
        source.value = value
        task = asyncio.create_task(read.read())
        await source.finish(value)
        assert await task == value
    assert read.queries == 3


async def test_a_failed_query_fails_its_caller_and_the_next_one_tries_again() -> None:
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionResetError("lost")
        return 7

    read = FreshRead(flaky)
    with pytest.raises(ConnectionResetError):
        await read.read()
    assert await read.read() == 7

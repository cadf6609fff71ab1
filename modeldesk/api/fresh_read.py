"""One query shared by many concurrent callers, none of whom gets an answer older than its call.

Every API request reads the catalogue version on the one LISTEN connection (see
`change_listener`). A connection runs one query at a time, so instead of a
query per request, callers that arrive while a query is in flight wait for the
next one and all share it: it was sent after each of them called, so its answer
is as fresh as a query of their own would have been. Under load there are at
most two queries outstanding however many requests are waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class FreshRead(Generic[T]):
    def __init__(self, fetch: Callable[[], Awaitable[T]]) -> None:
        self._fetch = fetch
        self._lock = asyncio.Lock()
        self._calls = 0
        # (the highest call number the last answer covers, that answer)
        self._last: tuple[int, T] | None = None
        self.queries = 0

    async def read(self) -> T:
        self._calls += 1
        call = self._calls
        async with self._lock:
            if self._last is not None and self._last[0] >= call:
                return self._last[1]  # a query sent after this call began has answered
            covers = self._calls  # every call numbered so far began before this query is sent
            self.queries += 1
            value = await self._fetch()
            self._last = (covers, value)
            return value

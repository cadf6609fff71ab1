"""Waiting between attempts to reach PostgreSQL again, and knowing when an outage began.

Every long-lived connection of a process (a worker's queue session, the API's
change listener) comes back the same way after PostgreSQL goes away: attempts
spaced by a doubling, jittered delay up to a cap, so a fleet reconnects
quickly after a restart without hammering a server still in recovery. An
outage is reported twice by its owner, once when it begins (`lost()` says so)
and once when it ends (`restored()` gives its length), rather than at every
failed attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

FIRST_DELAY_SECONDS = 0.2
# The cap bounds how long work waits once the server is back. It can be this
# short because an attempt on a server that is down costs next to nothing (a
# refused connection), and the jitter keeps a fleet's attempts apart.
MAX_DELAY_SECONDS = 2.0
# Spreads a fleet's attempts so they do not all arrive at once.
_JITTER = 0.2


class Reconnection:
    def __init__(
        self,
        *,
        first_delay: float = FIRST_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._rng = rng or random.Random()
        self._attempts = 0
        self._outage_began: float | None = None

    @property
    def in_outage(self) -> bool:
        return self._outage_began is not None

    def lost(self) -> bool:
        """Note a lost connection or a failed attempt; True when this begins an outage."""
        self._attempts += 1
        if self._outage_began is not None:
            return False
        self._outage_began = time.monotonic()
        return True

    def restored(self) -> float | None:
        """Note a working connection: the outage's length in seconds if one was open, else None."""
        began, self._outage_began = self._outage_began, None
        self._attempts = 0
        return None if began is None else time.monotonic() - began

    def next_delay(self) -> float:
        """The wait before the next attempt: doubling from `first_delay` up to `max_delay`."""
        exponent = min(max(self._attempts - 1, 0), 30)
        delay = min(self.max_delay, self.first_delay * 2.0**exponent)
        return delay * self._rng.uniform(1 - _JITTER, 1 + _JITTER)

    async def wait(self, stop: asyncio.Event | None = None) -> None:
        """Sleep `next_delay()`, or less if `stop` is set meanwhile."""
        delay = self.next_delay()
        if stop is None:
            await asyncio.sleep(delay)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)

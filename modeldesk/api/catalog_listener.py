"""A LISTEN connection on the catalogue channel, kept alive in the background.

Services NOTIFY the new catalogue version in the transaction that changes the
catalogue, so this process hears of every change at commit time. When the
connection drops, `connected` turns false at once (the cache stops being used)
and a background task reconnects with growing delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg  # type: ignore[import-untyped]

from modeldesk.db.catalog_version import CATALOG_CHANNEL

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


class CatalogListener:
    def __init__(
        self,
        dsn: str,
        on_version: Callable[[int], None],
        on_disconnect: Callable[[], None],
        *,
        liveness_interval: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._on_version = on_version
        self._on_disconnect = on_disconnect
        self._liveness_interval = liveness_interval
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self.connected = False

    def start(self) -> None:
        """Start listening in the background; a no-op when already running."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="catalog-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _notified(self, connection: object, pid: int, channel: str, payload: str) -> None:
        try:
            self._on_version(int(payload))
        except ValueError:
            logger.warning("ignoring catalogue notification with payload %r", payload)

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._listen_until_lost()
                attempt = 0  # it was up: the next try starts with the shortest delay
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                attempt += 1
                logger.warning(
                    "catalogue listener unavailable (%s, attempt %d); cache bypassed",
                    type(exc).__name__,
                    attempt,
                )
            finally:
                await self._drop_connection()
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])

    async def _listen_until_lost(self) -> None:
        lost = asyncio.Event()
        connection = await asyncpg.connect(self._dsn)
        self._connection = connection
        connection.add_termination_listener(lambda _conn: lost.set())
        await connection.add_listener(CATALOG_CHANNEL, self._notified)
        # Read after LISTEN: a change committed from here on is notified, so none is missed.
        version = await connection.fetchval("SELECT version FROM catalog_state WHERE id = 1")
        self._on_version(int(version))
        self.connected = True
        logger.info("catalogue listener connected at version %s", version)
        while True:
            try:
                await asyncio.wait_for(lost.wait(), timeout=self._liveness_interval)
                break
            except TimeoutError:
                # A silent network failure fires no termination event; a ping notices it.
                await connection.fetchval("SELECT 1", timeout=self._liveness_interval)
        logger.warning("catalogue listener connection lost; cache bypassed until it is back")

    async def _drop_connection(self) -> None:
        if self.connected:
            self.connected = False
            self._on_disconnect()
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

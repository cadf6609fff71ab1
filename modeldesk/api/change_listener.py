"""One LISTEN connection for catalogue and token changes, kept alive in the background.

Services NOTIFY in the transaction that makes a change (`CATALOG_CHANNEL` with
the new catalogue version, `TOKEN_CHANNEL` when a token is created or revoked),
so PostgreSQL delivers the notification at commit.

`sync()` is what makes the in-process caches exact rather than merely quick: it
runs `SELECT version` on this same connection. PostgreSQL sends a session every
notification committed before its query began ahead of the query's answer, and
asyncpg runs the callbacks before the awaiting request resumes. So once `sync()`
returns, every change committed before the request arrived, in any process, has
already reached the callbacks, and the version it returns is current.

When the connection drops (or cannot be opened, or fails in any other way),
`connected` turns false at once, `on_disconnect` runs (the caches are dropped
and bypassed) and the background task reconnects with a capped backoff
(`Reconnection`), for as long as it takes. An outage is logged once when it
begins and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg  # type: ignore[import-untyped]

from modeldesk.api.fresh_read import FreshRead
from modeldesk.auth import TOKEN_CHANNEL
from modeldesk.db.catalog_version import CATALOG_CHANNEL
from modeldesk.db.reconnect import Reconnection
from modeldesk.runs import is_database_unavailable

logger = logging.getLogger(__name__)

CONNECTION_LOST = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)
_VERSION_SQL = "SELECT version FROM catalog_state WHERE id = 1"


class ListenerUnavailable(Exception):
    """No LISTEN connection right now: changes may go unheard, so no cache may be trusted."""


class ChangeListener:
    def __init__(
        self,
        dsn: str,
        *,
        on_catalog_version: Callable[[int], None],
        on_tokens_changed: Callable[[], None],
        on_disconnect: Callable[[], None],
        liveness_interval: float = 5.0,
        query_timeout: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._on_catalog_version = on_catalog_version
        self._on_tokens_changed = on_tokens_changed
        self._on_disconnect = on_disconnect
        self._liveness_interval = liveness_interval
        self._query_timeout = query_timeout
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._versions = FreshRead(self._read_version)
        self._reconnection = Reconnection()
        self.connected = False

    def start(self) -> None:
        """Start listening in the background; a no-op when already running."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def version_queries(self) -> int:
        return self._versions.queries

    async def sync(self) -> int:
        """The current catalogue version, once every earlier change has reached the callbacks.

        Raises `ListenerUnavailable` when the connection is down or drops meanwhile.
        """
        if not self.connected:
            raise ListenerUnavailable("not connected")
        try:
            version = await self._versions.read()
        except CONNECTION_LOST as exc:
            raise ListenerUnavailable(type(exc).__name__) from exc
        self._on_catalog_version(version)
        return version

    async def _read_version(self) -> int:
        connection = self._connection
        if connection is None:
            raise asyncpg.InterfaceError("the listener connection is closed")
        return int(await connection.fetchval(_VERSION_SQL, timeout=self._query_timeout))

    def _catalog_changed(self, connection: object, pid: int, channel: str, payload: str) -> None:
        try:
            self._on_catalog_version(int(payload))
        except ValueError:
            logger.warning("ignoring catalogue notification with payload %r", payload)

    def _tokens_changed(self, connection: object, pid: int, channel: str, payload: str) -> None:
        self._on_tokens_changed()

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_until_lost()
            except Exception as exc:
                self._report(exc)
            finally:
                await self._drop_connection()
            await self._reconnection.wait()

    def _report(self, exc: Exception) -> None:
        """Log an outage when it begins, with its cause; a bug with its traceback."""
        if not self._reconnection.lost():
            logger.debug("change listener still unavailable: %s: %s", type(exc).__name__, exc)
        elif is_database_unavailable(exc) or isinstance(exc, CONNECTION_LOST):
            logger.warning(
                "change listener lost the database (%s: %s); caches bypassed until it is back",
                type(exc).__name__,
                exc,
            )
        else:
            logger.error("change listener failed; caches bypassed, reconnecting", exc_info=exc)

    async def _listen_until_lost(self) -> None:
        """Listen until the connection is lost; raises why (nothing else ends it)."""
        lost = asyncio.Event()
        connection = await asyncpg.connect(self._dsn, timeout=self._query_timeout)
        self._connection = connection
        connection.add_termination_listener(lambda _conn: lost.set())
        await connection.add_listener(CATALOG_CHANNEL, self._catalog_changed)
        await connection.add_listener(TOKEN_CHANNEL, self._tokens_changed)
        # Read after LISTEN: a change committed from here on is notified, so none is missed;
        # tokens remembered before the connection was lost may be stale, so they go.
        self._on_tokens_changed()
        version = await self._versions.read()
        self._on_catalog_version(version)
        self.connected = True
        outage = self._reconnection.restored()
        if outage is None:
            logger.info("change listener connected at catalogue version %s", version)
        else:
            logger.warning(
                "database reachable again after %.1f s; change listener connected "
                "at catalogue version %s, caches in use again",
                outage,
                version,
            )
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), timeout=self._liveness_interval)
            if not lost.is_set():
                # A silent network failure fires no termination event; a query notices it.
                await self._versions.read()
        raise ConnectionResetError("the LISTEN connection closed")

    async def _drop_connection(self) -> None:
        if self.connected:
            self.connected = False
            self._on_disconnect()
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

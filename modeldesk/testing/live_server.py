"""An app under a real uvicorn on a free loopback port, on the caller's own event loop.

Shared by the browser tests, the socket-level API tests and the benchmarks, so
every one of them gets the same socket setup (and the Nagle fix below).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator
from types import TracebackType

import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    """A loopback port free right now, for a server started in another process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # leave Ctrl-C to the caller (pytest, a benchmark's main)


class LiveServer:
    """Start with `await start()` or `async with`; the app's lifespan runs on both ends."""

    def __init__(self, app: FastAPI) -> None:
        # IPPROTO_TCP named, or asyncio leaves Nagle's algorithm on (40 ms stalls).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        port: int = self._socket.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._socket.close()

    async def __aenter__(self) -> LiveServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

"""`modeldesk serve`: uvicorn for the API and UI, with an in-process worker beside it.

Both run on one event loop. This module owns SIGTERM/SIGINT for the process:
one signal asks uvicorn to finish its requests and the worker to finish or
release its jobs, and the process then exits 0 (uvicorn's own handling would
re-raise the signal and exit as killed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from collections.abc import Generator

import uvicorn

from modeldesk.app import create_app
from modeldesk.context import AppContext

logger = logging.getLogger(__name__)


_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s]+")


class RedactTokensFilter(logging.Filter):
    """Keeps sign-in tokens (`/login?token=…`) out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # signals are handled by `serve`, for the server and the worker together


async def serve(context: AppContext, *, host: str, port: int, with_worker: bool) -> None:
    app = create_app(context)
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="info", lifespan="on"))
    logging.getLogger("uvicorn.access").addFilter(RedactTokensFilter())
    shutdown = asyncio.Event()

    def request_shutdown(signum: int) -> None:
        logger.info("received %s; shutting down", signal.Signals(signum).name)
        server.should_exit = True
        shutdown.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_shutdown, signum)

    worker: asyncio.Task[None] | None = None
    if with_worker:
        from modeldesk.queue.worker import run_worker

        worker = asyncio.create_task(run_worker(context, shutdown=shutdown), name="worker")
    try:
        await server.serve()
    finally:
        shutdown.set()
        if worker is not None:
            logger.info("server stopped; waiting for the in-process worker to stop")
            await worker
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)

"""`modeldesk serve`: uvicorn for the API and UI, with an in-process worker beside it.

Both run on one event loop. This module owns SIGTERM/SIGINT for the process:
one signal asks uvicorn to finish its requests and the worker to finish or
release its jobs, and the process then exits 0 (uvicorn's own handling would
re-raise the signal and exit as killed).

The worker rides out database outages by itself (see `queue.worker`); it ends
early only on a bug at its start-up, and then the server stops too, with the
worker's error, rather than serve on with no one running the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Generator

import uvicorn

from modeldesk.app import create_app
from modeldesk.context import AppContext
from modeldesk.heap import freeze_startup_objects

logger = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # signals are handled by `serve`, for the server and the worker together


async def serve(context: AppContext, *, host: str, port: int, with_worker: bool) -> None:
    app = create_app(context)
    # log_config=None: uvicorn's lines (its access log included) go through the
    # process's own handler and format (text or JSON), whose filter redacts every
    # token, code and key by its value (`log_format`), instead of uvicorn's handlers.
    config = uvicorn.Config(
        app, host=host, port=port, log_level="info", lifespan="on", log_config=None
    )
    server = _Server(config)
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

        def worker_ended(task: asyncio.Task[None]) -> None:
            if not shutdown.is_set() and not task.cancelled() and task.exception() is not None:
                logger.error("the in-process worker failed; stopping the server")
                server.should_exit = True

        worker.add_done_callback(worker_ended)
    freeze_startup_objects()
    try:
        await server.serve()
    finally:
        shutdown.set()
        if worker is not None:
            logger.info("server stopped; waiting for the in-process worker to stop")
            await worker
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)

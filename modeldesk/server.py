"""`modeldesk serve`: uvicorn for the API and UI, with an in-process worker beside it.

Both run on one event loop; when either stops (Ctrl-C, SIGTERM, a crash) the
other is asked to stop too, so the process never lingers half-alive.
"""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from modeldesk.app import create_app
from modeldesk.context import AppContext

logger = logging.getLogger(__name__)


async def serve(context: AppContext, *, host: str, port: int, with_worker: bool) -> None:
    app = create_app(context)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="info", lifespan="on")
    )
    if not with_worker:
        await server.serve()
        return

    from modeldesk.queue.worker import run_worker

    shutdown = asyncio.Event()
    worker = asyncio.create_task(run_worker(context, shutdown=shutdown), name="worker")
    try:
        await server.serve()
    finally:
        logger.info("server stopped; stopping the in-process worker")
        shutdown.set()
        await worker

"""SIGTERM/SIGINT for a standalone worker: finish in-flight jobs; at a second, release them.

`modeldesk serve` owns the process's signals itself and hands its worker a
shutdown event instead, so these handlers are only installed by `modeldesk worker`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def shutdown_on_signals(shutdown: asyncio.Event, release_now: Callable[[], None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()

    def handle(signum: int) -> None:
        name = signal.Signals(signum).name
        if shutdown.is_set():
            logger.warning("received %s again: giving in-flight jobs back to the queue now", name)
            release_now()
        else:
            logger.info("received %s: finishing in-flight jobs, then stopping", name)
            shutdown.set()

    for signum in _SIGNALS:
        loop.add_signal_handler(signum, handle, signum)
    try:
        yield
    finally:
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)

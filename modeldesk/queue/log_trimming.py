"""The worker's minute-by-minute offer to trim pgqueuer's log (see `modeldesk.db.queue_log`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from modeldesk.db.queue_log import TRIM_INTERVAL, trim_queue_log
from modeldesk.db.session import Database
from modeldesk.runs import is_database_unavailable

logger = logging.getLogger(__name__)


async def trim_queue_log_until(db: Database, retention_seconds: float, stop: asyncio.Event) -> None:
    """Offer to trim once a minute until `stop` is set; a failed attempt waits for the next.

    Database outages are the queue session's to report; this logs them at debug.
    """
    retention = timedelta(seconds=retention_seconds)
    while not stop.is_set():
        try:
            await trim_queue_log(db, retention)
        except Exception as exc:  # the database may be down: next minute tries again
            # An outage is the queue session's to report, once; anything else is news.
            level = logging.DEBUG if is_database_unavailable(exc) else logging.WARNING
            logger.log(
                level,
                "queue log trim failed (retention %s); next attempt in %s: %s: %s",
                retention,
                TRIM_INTERVAL,
                type(exc).__name__,
                exc,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TRIM_INTERVAL.total_seconds())

"""`modeldesk worker --metrics-port N`: this worker's own counters over HTTP.

Only the process counters (provider calls and their durations, and the
Python process's own figures) are served here. The fleet-wide gauges come
from PostgreSQL on `serve`'s `/metrics`; served by every worker too, they
would be counted once per worker by a scraper that sums.

prometheus-client serves from a thread of its own; its counters are
thread-safe, and the event loop never waits on a scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import start_http_server

logger = logging.getLogger(__name__)

DEFAULT_METRICS_HOST = "127.0.0.1"


@contextmanager
def serving_process_metrics(host: str, port: int) -> Iterator[int]:
    """Serve `/metrics` on host:port while inside; yields the bound port (0 picks one)."""
    server, thread = start_http_server(port, addr=host)
    bound: int = server.server_port
    logger.info("worker metrics at http://%s:%d/metrics", host, bound)
    try:
        yield bound
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

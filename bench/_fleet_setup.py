"""The setting of the benchmarks that drive real workers: a database of their own, the
simulator as every provider, and `modeldesk worker` processes.

A module for the scripts beside it (`python bench/<script>.py` puts this folder on
the import path); `make bench` leaves out `bench/_*.py`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from modeldesk.db.session import Database
from modeldesk.testing import Simulator
from modeldesk.testing.scratch_database import scratch_database
from modeldesk.testing.worker_fleet import WorkerFleet


@asynccontextmanager
async def bench_database() -> AsyncIterator[tuple[str, Database]]:
    """(URL, Database) of a migrated database dropped at the end: on the server of
    MODELDESK_BENCH_DATABASE_URL (its maintenance database) when set, else on an
    embedded server in a temporary directory."""
    async with scratch_database(os.environ.get("MODELDESK_BENCH_DATABASE_URL")) as url:
        db = Database(url)
        try:
            yield url, db
        finally:
            await db.dispose()


@contextmanager
def simulated_fleet(url: str) -> Iterator[tuple[Simulator, WorkerFleet]]:
    """The simulator, and a fleet on the database at `url` whose workers are yet to be
    started; the workers log to a temporary directory, gone at the end with them."""
    with (
        tempfile.TemporaryDirectory(prefix="modeldesk-bench-workers-") as log_dir,
        Simulator() as sim,
        WorkerFleet(url, Path(log_dir)) as fleet,
    ):
        yield sim, fleet

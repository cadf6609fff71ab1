"""The embedded PostgreSQL server, so a new user needs nothing installed.

pgserver ships PostgreSQL binaries in its wheel. Several modeldesk processes
(serve, workers, tests) may share one data directory: pgserver keeps a list of
the processes holding the server and stops it when the last one exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

logger = logging.getLogger(__name__)

_servers: dict[Path, PostgresServer] = {}


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded server under `data_dir` and return its URL.

    The server listens on a Unix socket inside the data directory only, so it
    never collides with a PostgreSQL already running on the machine.
    """
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; harmless here.
        warnings.simplefilter("ignore")
        # Imported lazily: only the embedded path needs its binaries.
        from pgserver.postgres_server import get_server

    pgdata = (data_dir / "pgdata").resolve()
    server = _servers.get(pgdata)
    if server is None:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        logger.info("starting embedded PostgreSQL in %s", pgdata)
        server = get_server(pgdata, cleanup_mode="stop")
        _servers[pgdata] = server
    return f"postgresql://postgres@/postgres?host={quote(str(pgdata))}"


def stop_embedded_servers() -> None:
    """Release this process's hold on every embedded server it started."""
    for pgdata, server in list(_servers.items()):
        logger.info("releasing embedded PostgreSQL in %s", pgdata)
        server.cleanup()
        del _servers[pgdata]

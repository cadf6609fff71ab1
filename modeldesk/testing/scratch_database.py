"""A migrated database of its own for a test session or a benchmark, dropped when it ends.

On the server of `server_url` (its maintenance database, e.g. `.../postgres`)
when one is given, else on an embedded server in a temporary directory that
is removed afterwards (that path is for a benchmark's own process: leaving, it
releases every embedded server the process holds).
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

from modeldesk.db.migrate import upgrade_database


@asynccontextmanager
async def scratch_database(
    server_url: str | None, prefix: str = "modeldesk_bench"
) -> AsyncIterator[str]:
    temp_dir = None
    if not server_url:
        # Imported lazily: only this path needs the embedded server's binaries.
        from modeldesk.db.embedded import embedded_database_url

        temp_dir = tempfile.TemporaryDirectory(prefix="modeldesk-bench-")
        server_url = embedded_database_url(Path(temp_dir.name))
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
        try:
            await upgrade_database(url)
            yield url
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
        if temp_dir is not None:
            from modeldesk.db.embedded import stop_embedded_servers

            stop_embedded_servers()
            temp_dir.cleanup()

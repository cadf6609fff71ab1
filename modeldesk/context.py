"""What a modeldesk process needs to run: its settings and a migrated database.

`serve`, `worker` and the tests all start the same way, so the embedded server,
the migration lock and the engine are set up in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from modeldesk.config import Settings
from modeldesk.db.migrate import upgrade_database
from modeldesk.db.session import Database
from modeldesk.db.urls import resolve_database_url


@dataclass
class AppContext:
    settings: Settings
    db: Database
    owns_embedded_server: bool

    async def close(self) -> None:
        await self.db.dispose()
        if self.owns_embedded_server:
            from modeldesk.db.embedded import stop_embedded_servers

            stop_embedded_servers()


async def open_context(settings: Settings, *, migrate: bool = True) -> AppContext:
    url = resolve_database_url(settings)
    if migrate:
        await upgrade_database(url)
    return AppContext(
        settings=settings, db=Database(url), owns_embedded_server=settings.database_url is None
    )

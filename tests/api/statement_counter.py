"""Counting the SQL statements the app's Database runs, to show what a request costs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from modeldesk.db.session import Database


class StatementCounter:
    def __init__(self, db: Database) -> None:
        self.statements: list[str] = []
        self._engine = db.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._count)

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._count)

"""Queue hygiene (SPEC 9.7): pgqueuer's log is trimmed, its tables tuned, autovacuum watched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
from queue_support import eventually
from sqlalchemy import text

from modeldesk.app import AUTOVACUUM_OFF_WARNING, create_app
from modeldesk.config import Settings, load_settings
from modeldesk.context import AppContext
from modeldesk.db.queue_log import trim_queue_log
from modeldesk.db.session import Database

_LOG_ROWS = """
INSERT INTO pgqueuer_log (job_id, status, entrypoint, priority, created)
SELECT n, 'successful', 'probe.openai', 0, now() - make_interval(hours => CAST(:age_hours AS int))
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n
"""


async def _log_rows(db: Database, first: int, count: int, age_hours: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            text(_LOG_ROWS), {"first": first, "last": first + count - 1, "age_hours": age_hours}
        )


async def _log_jobs(db: Database) -> list[int]:
    async with db.session() as session:
        return list(await session.scalars(text("SELECT job_id FROM pgqueuer_log ORDER BY job_id")))


async def test_the_log_keeps_only_the_retention_and_trims_once_a_minute(db: Database) -> None:
    await _log_rows(db, first=1, count=300, age_hours=25)  # past a 24 h retention
    await _log_rows(db, first=1000, count=3, age_hours=1)
    assert await trim_queue_log(db, timedelta(hours=24)) == 300
    assert await _log_jobs(db) == [1000, 1001, 1002]

    await _log_rows(db, first=1, count=5, age_hours=25)
    assert await trim_queue_log(db, timedelta(hours=24)) is None  # trimmed under a minute ago
    assert len(await _log_jobs(db)) == 8
    assert await trim_queue_log(db, timedelta(hours=24), interval=timedelta(0)) == 5


async def test_one_worker_trims_at_a_time(db: Database) -> None:
    await _log_rows(db, first=1, count=10, age_hours=2)
    async with db.transaction() as holder:  # another worker in the middle of its trim
        await holder.execute(text("SELECT pg_advisory_xact_lock(x'716c6f67'::int)"))
        assert await trim_queue_log(db, timedelta(hours=1), interval=timedelta(0)) is None
    assert await trim_queue_log(db, timedelta(hours=1), interval=timedelta(0)) == 10


async def test_the_worker_trims_the_log_as_it_starts(
    db: Database,
    fast_settings: Settings,
    start_worker: Callable[[Settings], object],  # stopped by the fixture
) -> None:
    await _log_rows(db, first=1, count=20, age_hours=2)
    await _log_rows(db, first=100, count=2, age_hours=0)
    settings = fast_settings.model_copy(update={"queue_log_retention": 3600.0})
    start_worker(settings)

    async def trimmed() -> bool:
        return await _log_jobs(db) == [100, 101]

    await eventually(trimmed, what="the worker trimming pgqueuer_log")


async def test_pgqueuers_tables_carry_its_recommended_settings(db: Database) -> None:
    query = "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(:names)"
    async with db.session() as session:
        rows = await session.execute(text(query), {"names": ["pgqueuer", "pgqueuer_log"]})
        options = {name: reloptions for name, reloptions in rows.all()}
    assert "fillfactor=70" in options["pgqueuer"]
    assert "autovacuum_vacuum_scale_factor=0.01" in options["pgqueuer"]
    assert "autovacuum_vacuum_threshold=1000000" in options["pgqueuer_log"]


async def test_healthz_warns_when_autovacuum_is_off(db: Database) -> None:
    app = create_app(AppContext(settings=load_settings({}), db=db, owns_embedded_server=False))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/healthz")
    async with db.session() as session:
        autovacuum = await session.scalar(text("SHOW autovacuum"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    if autovacuum == "off":  # as on the development machine's server
        assert body["warnings"] == [AUTOVACUUM_OFF_WARNING]
        assert body["warnings"][0].startswith("autovacuum: off")
    else:
        assert "warnings" not in body

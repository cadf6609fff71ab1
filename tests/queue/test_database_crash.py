"""Workers carry a run through a PostgreSQL crash: `pg_ctl stop -m immediate`, then a start.

Each test owns the cluster it crashes (`OwnedPostgres`), never the shared test
server, and runs once with every kind of PostgreSQL binaries on the machine:
those pgserver bundles (the embedded server's) and the system's installation.
Run with `-s` to see the recovery figures; `bench/db_crash_recovery.py` sets
them against a run without a crash.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from queue_support import eventually

from modeldesk.auth import create_token
from modeldesk.auth.principal import Principal
from modeldesk.catalog import ProviderUpdate, update_provider
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus
from modeldesk.testing import Simulator
from modeldesk.testing.crash_runs import (
    CrashedRun,
    TranscriptTally,
    Workload,
    crash_and_restart,
    create_owned_database,
    run_through_crash,
    tally_transcripts,
    wait_for_progress,
)
from modeldesk.testing.live_server import free_port
from modeldesk.testing.owned_postgres import OwnedPostgres, PostgresBinaries, available_binaries
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run, wait_for_run
from modeldesk.testing.worker_fleet import WorkerFleet

PROBES = 60
PARALLEL = 4
LATENCY = 0.2
ONE_EACH = TranscriptTally(transcripts=PROBES, probes_with_one=PROBES)
GIVEN_BACK = re.compile(r"\((\d+) jobs of the lost connection back in the queue\)")
# None, when the machine has no binaries at all: the tests then say so and skip.
BINARIES: list[PostgresBinaries | None] = [*available_binaries()] or [None]


@pytest.fixture(params=BINARIES, ids=lambda found: getattr(found, "kind", "none"))
def owned_postgres(request: pytest.FixtureRequest) -> Iterator[OwnedPostgres]:
    binaries: PostgresBinaries | None = request.param
    if binaries is None:
        pytest.skip("no PostgreSQL binaries (pgserver's or the system's) on this machine")
    with OwnedPostgres(binaries) as postgres:
        postgres.start()
        yield postgres


@pytest.fixture
async def owned_db(owned_postgres: OwnedPostgres) -> AsyncIterator[Database]:
    database = Database(await create_owned_database(owned_postgres), pool_size=2)
    try:
        yield database
    finally:
        await database.dispose()


def _report(label: str, crashed: CrashedRun) -> None:
    print(
        f"\n{label}: down {crashed.restart.outage_seconds:.1f} s; next probe done "
        f"{crashed.recovery_seconds:.2f} s after PostgreSQL accepted connections, the run "
        f"{crashed.finished_after_restart:.1f} s after; run took {crashed.run_seconds:.1f} s"
    )


CrashMidRun = Callable[..., Awaitable[CrashedRun]]


@pytest.fixture
def crash_mid_run(
    owned_postgres: OwnedPostgres,
    owned_db: Database,
    admin: Principal,
    sim: Simulator,
    tmp_path: Path,
) -> CrashMidRun:
    """Two workers, 60 probes, a crash once 12 are done, a restart; both workers come back.

    Called with the label of its printed figures, the workers' heartbeat and how long
    the server stays down."""

    async def crash(label: str, *, heartbeat_seconds: float, down_for: float) -> CrashedRun:
        workload = Workload(
            probes=PROBES, parallel=PARALLEL, workers=2, heartbeat_seconds=heartbeat_seconds
        )
        crashed = await run_through_crash(
            owned_postgres,
            owned_db,
            admin,
            sim,
            tmp_path,
            workload,
            name="crashy",
            crash_after=12,
            down_for=down_for,
        )
        _report(f"{label} ({owned_postgres.binaries.kind})", crashed)
        assert (crashed.run.status, crashed.run.completed, crashed.run.failed) == (
            RunStatus.COMPLETED,
            PROBES,
            0,
        )
        assert await tally_transcripts(owned_db, crashed.run.id) == ONE_EACH
        # The calls cut off by the crash ran again once each, and nothing else twice.
        assert PROBES <= crashed.provider_calls <= PROBES + PARALLEL
        assert crashed.most_calls_of_one_probe <= 2
        for log in crashed.worker_logs:
            assert log.count("worker lost the database") == 1, log
            assert log.count("database reachable again after") == 1, log
            assert "Traceback" not in log, log
        return crashed

    return crash


def _given_back(logs: list[str]) -> int:
    """Jobs the workers put back in the queue for their lost sessions, by their logs."""
    return sum(int(found) for log in logs for found in GIVEN_BACK.findall(log))


async def test_two_workers_finish_a_run_through_a_crash_with_one_transcript_per_probe(
    crash_mid_run: CrashMidRun,
) -> None:
    # Back well within the heartbeat timeout: the jobs that were in flight run
    # again because their own workers give them back, not because they went stale.
    crashed = await crash_mid_run("crash", heartbeat_seconds=30, down_for=5)
    assert crashed.provider_calls - PROBES <= _given_back(crashed.worker_logs)
    assert crashed.finished_after_restart < 20  # nothing waited 30 s for a stale heartbeat


async def test_a_run_survives_the_database_gone_for_longer_than_the_heartbeat_timeout(
    crash_mid_run: CrashMidRun,
) -> None:
    # Every picked job's heartbeat is stale when the server is back, so another
    # worker may re-pick it while its own worker gives it back: still one run each.
    crashed = await crash_mid_run("long outage", heartbeat_seconds=2, down_for=6)
    assert crashed.restart.outage_seconds > 3 * 2


CATALOGUE = {"query": "{ llmProviders { name requestsPerMinute } }"}


def _requests_per_minute(answer: httpx.Response, provider: str) -> int:
    providers = answer.json()["data"]["llmProviders"]
    return int(next(p["requestsPerMinute"] for p in providers if p["name"] == provider))


async def test_serve_and_its_worker_come_back_from_a_crash_without_serving_stale_answers(
    owned_postgres: OwnedPostgres,
    owned_db: Database,
    admin: Principal,
    sim: Simulator,
    tmp_path: Path,
) -> None:
    provider, model = await add_simulated_provider(owned_db, admin, sim.url, "served", parallel=2)
    sim.configure(model.model_id, provider=provider.name, latency=LATENCY)
    _, token = await create_token(owned_db, role="admin", name="crash test")
    port = free_port()
    headers = {"Authorization": f"Bearer {token}"}
    with WorkerFleet(owned_db.url, tmp_path) as fleet:
        serve = fleet.start_serve(port)
        fleet.wait_until_started()  # its in-process worker serves the queue
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
        ) as api:
            await eventually(lambda: "change listener connected" in fleet.log(0), what="listener")
            for _ in range(2):  # the second answer comes from the response cache
                assert _requests_per_minute(await api.post("/graphql", json=CATALOGUE), "served")
            run = await queue_probe_run(owned_db, admin, [model], 30)
            await wait_for_progress(owned_db, run.id, 6)

            async def unavailable_meanwhile() -> None:
                health = await api.get("/healthz")
                assert (health.status_code, health.json()["database"]) == (503, "unreachable")
                answer = await api.post("/graphql", json=CATALOGUE)
                assert answer.status_code == 503
                (error,) = answer.json()["errors"]
                assert error["extensions"] == {"code": "UNAVAILABLE", "retryable": True}

            await crash_and_restart(owned_postgres, owned_db, 4, unavailable_meanwhile)
            # Changed elsewhere once the server is back: no answer may predate it.
            await update_provider(
                owned_db, admin, provider.id, ProviderUpdate.parse(requests_per_minute=1234)
            )

            async def fresh_answer() -> bool:
                answer = await api.post("/graphql", json=CATALOGUE)
                if answer.status_code == 503:  # a connection the crash broke, discarded now
                    return False
                assert _requests_per_minute(answer, "served") == 1234
                return True

            await eventually(fresh_answer, what="an answer from the API")
            assert (await api.get("/healthz")).status_code == 200
            finished = await wait_for_run(owned_db, run.id, within=40)
            await eventually(
                lambda: "caches in use again" in fleet.log(0), what="the listener reconnecting"
            )
            await update_provider(
                owned_db, admin, provider.id, ProviderUpdate.parse(requests_per_minute=4321)
            )
            assert (
                _requests_per_minute(await api.post("/graphql", json=CATALOGUE), "served") == 4321
            )
        assert serve.poll() is None

    assert (finished.status, finished.completed) == (RunStatus.COMPLETED, 30)
    assert await tally_transcripts(owned_db, run.id) == TranscriptTally(30, 30)
    log = fleet.log(0)
    assert log.count("worker lost the database") == 1, log
    assert log.count("change listener lost the database") == 1, log
    assert "Traceback" not in log, log

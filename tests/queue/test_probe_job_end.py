"""A probe step run for its queue job: admission with the claim, the job's end with the record."""

from __future__ import annotations

from datetime import timedelta

import asyncpg  # type: ignore[import-untyped]
import httpx
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.models import Job

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.job_queue import decode_payload, probe_entrypoint
from modeldesk.db.session import Database
from modeldesk.enums import TranscriptStatus
from modeldesk.queue.manager import ProviderQueueManager, SessionDriver
from modeldesk.runs.probe_records import QueueJob, record_failure
from modeldesk.runs.probe_step import execute_probe
from modeldesk.testing import Simulator
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run


async def _noop(job: Job) -> None:
    return None


async def _queued_run(
    db: Database, admin: Principal, sim: Simulator, probes: int
) -> tuple[int, int, str]:
    """A run of `probes` on a one-slot provider: (run id, provider id, provider name)."""
    provider, model = await add_simulated_provider(db, admin, sim.url, "ending", parallel=1)
    sim.configure(model.model_id, provider=provider.name, latency=0.0)
    run = await queue_probe_run(db, admin, [model], probes)
    return run.id, provider.id, provider.name


async def _pick(manager: ProviderQueueManager) -> list[Job]:
    jobs = manager.fetch_jobs(
        batch_size=10, global_concurrency_limit=None, heartbeat_timeout=timedelta(seconds=30)
    )
    return [job async for job in jobs]


def _manager(gate_pool: asyncpg.Pool, provider_name: str) -> ProviderQueueManager:
    manager = ProviderQueueManager(Queries(SessionDriver(gate_pool)))
    manager.add_entrypoint(probe_entrypoint(provider_name), _noop, concurrency_limit=1)
    return manager


async def _log(gate_pool: asyncpg.Pool, job_id: int) -> list[str]:
    rows = await gate_pool.fetch(
        "SELECT status FROM pgqueuer_log WHERE job_id = $1 ORDER BY id", job_id
    )
    return [row["status"] for row in rows]


async def test_the_record_ends_the_job_and_frees_its_slot_in_one_transaction(
    db: Database,
    admin: Principal,
    sim: Simulator,
    gate_pool: asyncpg.Pool,
    fast_settings: Settings,
    client: httpx.AsyncClient,
) -> None:
    _, provider_id, provider_name = await _queued_run(db, admin, sim, 2)
    manager = _manager(gate_pool, provider_name)
    (job,) = await _pick(manager)
    assert await _pick(manager) == []  # one slot, taken

    queue_job = QueueJob(job_id=job.id, provider_id=provider_id)
    probe_id = int(decode_payload(job.payload)["probe_id"])
    outcome = await execute_probe(db, fast_settings, client, probe_id, queue_job)

    assert outcome.kind == "done" and queue_job.finished
    assert await gate_pool.fetchval("SELECT count(*) FROM pgqueuer WHERE id = $1", job.id) == 0
    transcript = await gate_pool.fetchrow(
        "SELECT status FROM transcripts WHERE probe_id = $1", probe_id
    )
    assert transcript is not None and transcript["status"] == TranscriptStatus.SUCCEEDED
    assert len(await _pick(manager)) == 1  # the slot came free with the record
    await manager.queries.log_jobs([(job, "successful", None)])  # pgqueuer's own, later
    assert await _log(gate_pool, job.id) == ["queued", "picked", "successful"]


async def test_a_summarizing_runs_job_outlasts_its_record(
    db: Database, admin: Principal, sim: Simulator, gate_pool: asyncpg.Pool
) -> None:
    """Its summary is queued after the record; a worker dying in between must leave
    the job to be delivered again."""
    run_id, provider_id, provider_name = await _queued_run(db, admin, sim, 1)
    await gate_pool.execute("UPDATE runs SET summarize = true WHERE id = $1", run_id)
    manager = _manager(gate_pool, provider_name)
    (job,) = await _pick(manager)
    queue_job = QueueJob(job_id=job.id, provider_id=provider_id)
    probe_id = int(decode_payload(job.payload)["probe_id"])

    recorded = await record_failure(
        db, probe_id, code="PROVIDER_ERROR", message="gone", retryable=False, job=queue_job
    )

    assert recorded and not queue_job.finished
    status = await gate_pool.fetchval("SELECT status FROM pgqueuer WHERE id = $1", job.id)
    assert status == "picked"
    assert await _log(gate_pool, job.id) == ["queued", "picked"]

"""Runs at scale (SPEC 9.7): a 100,000-probe run is created in batches and cancelled at once."""

from __future__ import annotations

import logging
import time

from runs_support import queued_jobs
from sqlalchemy import func, select

from modeldesk.auth.principal import Principal
from modeldesk.db.job_queue import probe_entrypoint
from modeldesk.db.run_tables import Probe
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus
from modeldesk.runs import MAX_PROBES_PER_RUN, MAX_SCENARIOS, cancel_run, create_run
from modeldesk.testing.transcript_fill import FIVE_MODELS, definition_of_size

logger = logging.getLogger(__name__)


async def test_a_100k_probe_run_is_created_and_cancelled_quickly(
    catalog: Database, admin: Principal
) -> None:
    definition_id = await definition_of_size(catalog, admin, [100, 20, MAX_SCENARIOS // 2000])
    started = time.perf_counter()
    run = await create_run(catalog, admin, definition_id, list(FIVE_MODELS))
    created_in = time.perf_counter() - started
    assert run.total == MAX_PROBES_PER_RUN == 100_000
    assert await queued_jobs(catalog, probe_entrypoint("openai")) == 20_000

    started = time.perf_counter()
    cancelled = await cancel_run(catalog, admin, run.id)
    cancelled_in = time.perf_counter() - started
    logger.warning(
        "100k-probe run: created in %.2f s, cancelled in %.2f s", created_in, cancelled_in
    )
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.cancelled == 100_000
    # SPEC's "< 2 s" is bench/scale.py's figure; this bound only catches the nested-loop
    # plan that took minutes, without failing on a busy machine.
    assert cancelled_in < 30.0
    assert await queued_jobs(catalog, probe_entrypoint("openai")) == 0
    async with catalog.session() as session:
        pending = await session.scalar(
            select(func.count()).where(Probe.run_id == run.id, Probe.state == ProbeState.PENDING)
        )
    assert pending == 0

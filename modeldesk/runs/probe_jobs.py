"""Probes' queued jobs, taken off and put back as runs are cancelled, paused, resumed, retried.

A probe's job lives in its provider's `probe.<name>` entrypoint with the payload
`{"probe_id": N}`. These helpers map probes to those entrypoints (one query for
any number of probes) and act on the jobs inside the caller's transaction, so a
run's status and its jobs change together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.job_queue import (
    discard_queued_jobs,
    encode_payload,
    enqueue_in_turn,
    probe_entrypoint,
    wake_jobs,
)
from modeldesk.db.tables import LlmModel, LlmProvider

# (probe id, model id): what a probe's job is found by.
ProbeKey = tuple[int, int]


async def _payloads_by_entrypoint(
    session: AsyncSession, probes: Iterable[ProbeKey]
) -> dict[str, list[dict[str, int]]]:
    """The probes' job payloads, in the order given, grouped by their provider's entrypoint."""
    probes = list(probes)
    if not probes:
        return {}
    rows = await session.execute(
        select(LlmModel.id, LlmProvider.name)
        .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
        .where(LlmModel.id.in_({model_id for _, model_id in probes}))
    )
    providers = {model_id: name for model_id, name in rows}
    payloads: dict[str, list[dict[str, int]]] = defaultdict(list)
    for probe_id, model_id in probes:
        payloads[probe_entrypoint(providers[model_id])].append({"probe_id": probe_id})
    return payloads


async def discard_probe_jobs(session: AsyncSession, probes: Iterable[ProbeKey]) -> int:
    """Remove the probes' waiting jobs from their providers' queues; returns how many.

    A job already picked is not touched: it finds its probe (or run) changed
    when it claims it, and acts on that.
    """
    discarded = 0
    for entrypoint, batch in (await _payloads_by_entrypoint(session, probes)).items():
        discarded += await discard_queued_jobs(session, entrypoint, batch)
    return discarded


async def requeue_probe_jobs(session: AsyncSession, probes: Iterable[ProbeKey]) -> int:
    """Give every one of these pending probes a job that may run now; returns how many were new.

    A probe whose job still exists (one re-queued with a delay while its run
    was paused, or one being run) keeps it, made due now if it waits; the
    others get a new job, in the order given, taking turns with the runs
    already queued (`enqueue_in_turn`). So no probe ends up with two jobs.
    """
    queued = 0
    for entrypoint, batch in (await _payloads_by_entrypoint(session, probes)).items():
        existing = await wake_jobs(session, entrypoint, batch)
        missing = [payload for payload in batch if encode_payload(payload) not in existing]
        await enqueue_in_turn(session, entrypoint, missing)
        queued += len(missing)
    return queued

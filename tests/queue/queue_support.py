"""Helpers shared by the queue tests (the fixtures live in conftest.py).

A module of its own, with a name no other test folder uses, so importing it
never picks up another folder's conftest.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from pgqueuer.domain.models import Job
from pgqueuer.domain.types import QueueEntrypoint

from modeldesk.db.job_queue import encode_payload
from modeldesk.queue.manager import ProviderQueueManager

# What the simulated scenario-expansion model answers (see the `infra_provider` fixture).
GENERATED_SCENARIOS = ["Is the sky blue?", "Why is the sea salty?"]


def picked_job(payload: dict[str, int], attempts: int = 0, entrypoint: str = "probe.gated") -> Job:
    """A job as a worker hands it to a handler: picked, with this payload."""
    now = datetime.now(UTC)
    return Job(
        id=1,
        priority=0,
        created=now,
        updated=now,
        heartbeat=now,
        execute_after=now,
        status="picked",
        entrypoint=entrypoint,
        payload=encode_payload(payload),
        attempts=attempts,
        queue_manager_id=None,
        headers=None,
    )


async def provider_held_until(pool: asyncpg.Pool, provider_id: int) -> datetime | None:
    """The end of the provider's current hold, or None when it is not held."""
    held_until: datetime | None = await pool.fetchval(
        "SELECT held_until FROM provider_holds"
        " WHERE provider_id = $1 AND held_until > clock_timestamp()",
        provider_id,
    )
    return held_until


def concurrency_limit(manager: ProviderQueueManager, name: str) -> int:
    """The concurrency limit pgqueuer applies to entrypoint `name`."""
    limit: int = manager.entrypoint_registry[QueueEntrypoint(name)].parameters.concurrency_limit
    return limit

"""One entrypoint per provider, kept in step with the catalogue while workers run.

Every worker re-reads the providers every `limits_refresh_seconds`: a changed
`max_parallel_requests` becomes the entrypoint's concurrency limit, a new
provider gets an entrypoint, and a disabled provider's entrypoint is paused so
its queued jobs wait (running ones finish). No restart is needed for any of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pgqueuer.core.executors import AsyncEntrypoint
from sqlalchemy import select

from modeldesk.catalog import effective_max_parallel
from modeldesk.db.job_queue import probe_entrypoint
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.queue.manager import ProviderQueueManager

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderLimits:
    provider_id: int
    name: str
    max_parallel_requests: int
    is_enabled: bool

    @property
    def entrypoint(self) -> str:
        return probe_entrypoint(self.name)

    @property
    def concurrency_limit(self) -> int:
        """The catalogue's effective limit (pgqueuer would read a configured 0 as unlimited)."""
        return effective_max_parallel(self.max_parallel_requests)

    @property
    def is_raised(self) -> bool:
        """Whether the configured limit is below what the catalogue lets it run with."""
        return self.concurrency_limit != self.max_parallel_requests


async def load_provider_limits(db: Database) -> list[ProviderLimits]:
    async with db.session() as session:
        rows = await session.execute(
            select(
                LlmProvider.id,
                LlmProvider.name,
                LlmProvider.max_parallel_requests,
                LlmProvider.is_enabled,
            ).order_by(LlmProvider.id)
        )
        return [ProviderLimits(*row) for row in rows]


HandlerFactory = Callable[[ProviderLimits], AsyncEntrypoint]


class ProviderEntrypoints:
    """Applies the catalogue's provider limits to one worker's queue manager."""

    def __init__(self, manager: ProviderQueueManager, handler_for: HandlerFactory) -> None:
        self._manager = manager
        self._handler_for = handler_for
        self._applied: dict[str, ProviderLimits] = {}

    def apply(self, providers: Sequence[ProviderLimits]) -> None:
        for provider in providers:
            previous = self._applied.get(provider.name)
            if previous == provider:
                continue
            self._apply_one(provider, previous)
            self._applied[provider.name] = provider

    def _apply_one(self, provider: ProviderLimits, previous: ProviderLimits | None) -> None:
        name = provider.entrypoint
        if provider.is_raised and (previous is None or not previous.is_raised):
            logger.warning(
                "provider %s has max_parallel_requests %d; running its probes %d at a time",
                provider.name,
                provider.max_parallel_requests,
                provider.concurrency_limit,
            )
        if not self._manager.has_entrypoint(name):
            self._manager.add_entrypoint(
                name, self._handler_for(provider), concurrency_limit=provider.concurrency_limit
            )
            logger.info(
                "provider %s: entrypoint %s registered, %d parallel, %s",
                provider.name,
                name,
                provider.concurrency_limit,
                "enabled" if provider.is_enabled else "disabled",
            )
        elif previous is not None and previous.concurrency_limit != provider.concurrency_limit:
            self._manager.set_concurrency_limit(name, provider.concurrency_limit)
            logger.info(
                "provider %s: parallel requests %d -> %d",
                provider.name,
                previous.concurrency_limit,
                provider.concurrency_limit,
            )
        if previous is not None and previous.is_enabled != provider.is_enabled:
            logger.info(
                "provider %s %s",
                provider.name,
                "enabled: its queued probes start again"
                if provider.is_enabled
                else "disabled: its queued probes wait",
            )
        self._manager.set_paused(name, not provider.is_enabled)

    async def refresh(self, db: Database) -> None:
        self.apply(await load_provider_limits(db))

    async def keep_refreshed(self, db: Database, interval: float, stop: asyncio.Event) -> None:
        """Refresh every `interval` seconds until `stop`.

        A failed read raises: limits that can no longer be read may be stale,
        so the worker's session ends and reconnects (see `queue.session`)
        rather than run on them.
        """
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if stop.is_set():
                return
            await self.refresh(db)

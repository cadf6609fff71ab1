"""Creating and updating providers.

A provider's limits are read by every worker every few seconds, so an edit here
is how an operator steers live parallelism and requests per minute.

Its default prices are what a model of it with no price of its own is charged
(`llm.fallback_quote`), flagged `unpriced`. The schema keeps no history table
for them: a call records the prices it was charged in its cost snapshot, so no
past cost depends on them, and every change is in the audit log with the
prices before and after.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth import Principal
from modeldesk.catalog.audit import CatalogChange, provider_snapshot, record_catalog_changes
from modeldesk.catalog.inputs import ProviderCreate, ProviderUpdate
from modeldesk.catalog.integrity import guarded_transaction
from modeldesk.db.reads import required
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.errors import ValidationError
from modeldesk.llm.key_routing import current_routing

logger = logging.getLogger(__name__)


def effective_max_parallel(max_parallel_requests: int) -> int:
    """How many calls of a provider may run at once: 0 is treated as 1 (SPEC 4).

    Stopping a provider is what disabling it is for; 0 running as "none" would
    strand its queued probes, and a queue would read it as "unlimited". Callers
    that find the effective limit differs from the configured one say so.
    """
    return max(1, max_parallel_requests)


def effective_requests_per_minute(requests_per_minute: int) -> int:
    """The window a provider's calls are admitted under: 0 counts as 1, as in
    `modeldesk_admit_call` (migration 0003), which applies it in the database."""
    return max(1, requests_per_minute)


def _default_prices(snapshot: dict[str, Any]) -> str:
    return f"{snapshot['default_input_price']}/{snapshot['default_output_price']}"


def _check_key_routing(name: str, key_variable: str | None, base_url: str | None) -> None:
    """Refuse a key variable that may not hold a key, or a base URL its key may not go to
    (see `llm.key_routing`; the same rules are checked again at each call)."""
    routing = current_routing()
    if key_variable is not None:
        refusal = routing.key_variable_refusal(key_variable)
        if refusal is not None:
            raise ValidationError(f"apiKeyEnv: {refusal}", field="apiKeyEnv")
    refusal = routing.destination_refusal(name, key_variable, base_url)
    if refusal is not None:
        raise ValidationError(f"baseUrl: {refusal}", field="baseUrl")


async def lock_provider(session: AsyncSession, provider_id: int) -> LlmProvider:
    """FOR UPDATE on the provider's row: taken before any of its models' (see `catalog.models`)."""
    provider = await session.scalar(
        select(LlmProvider).where(LlmProvider.id == provider_id).with_for_update()
    )
    return required(provider, f"No provider with id {provider_id}.")


async def create_provider(db: Database, actor: Principal, data: ProviderCreate) -> LlmProvider:
    actor.require_admin("creating a provider")
    _check_key_routing(data.name, data.api_key_env, data.base_url)
    provider = LlmProvider(
        name=data.name,
        display_name=data.display_name,
        api_style=data.api_style.value,
        base_url=data.base_url,
        api_key_env=data.api_key_env,
        max_parallel_requests=data.max_parallel_requests,
        requests_per_minute=data.requests_per_minute,
        default_input_price=data.default_input_price,
        default_output_price=data.default_output_price,
        reference_provider=data.reference_provider,
        is_enabled=True,
    )
    async with guarded_transaction(db) as session:
        session.add(provider)
        await session.flush()
        await session.refresh(provider)
        created = CatalogChange(
            "provider.create", "provider", provider.id, after=provider_snapshot(provider)
        )
        await record_catalog_changes(session, actor, created)
    logger.info("provider created: %s (id %s) by %s", provider.name, provider.id, actor.name)
    return provider


async def update_provider(
    db: Database, actor: Principal, provider_id: int, data: ProviderUpdate
) -> LlmProvider:
    actor.require_admin("updating a provider")
    async with db.transaction() as session:
        provider = await lock_provider(session, provider_id)
        before = provider_snapshot(provider)
        if data.max_parallel_requests is not None:
            provider.max_parallel_requests = data.max_parallel_requests
        if data.requests_per_minute is not None:
            provider.requests_per_minute = data.requests_per_minute
        if data.is_enabled is not None:
            provider.is_enabled = data.is_enabled
        if data.base_url is not None or data.clear_base_url:
            _check_key_routing(provider.name, provider.api_key_env, data.base_url)
            provider.base_url = data.base_url
        if data.display_name is not None:
            provider.display_name = data.display_name
        if data.reference_provider is not None or data.clear_reference_provider:
            provider.reference_provider = data.reference_provider
        for field in ("default_input_price", "default_output_price"):
            # Compared as numbers, so "2.50" over 2.5 is no change and writes no audit entry.
            new = getattr(data, field)
            if new is not None and new != getattr(provider, field):
                setattr(provider, field, new)
        await session.flush()
        await session.refresh(provider)
        after = provider_snapshot(provider)
        if after != before:
            updated = CatalogChange("provider.update", "provider", provider.id, before, after)
            await record_catalog_changes(session, actor, updated)
    if _default_prices(after) != _default_prices(before):
        logger.info(
            "provider %s default prices per million (input/output) %s -> %s by %s",
            provider.name,
            _default_prices(before),
            _default_prices(after),
            actor.name,
        )
    if after["base_url"] != before["base_url"]:
        logger.info(
            "provider %s base URL %s -> %s by %s",
            provider.name,
            before["base_url"] or "(default)",
            after["base_url"] or "(default)",
            actor.name,
        )
    configured = provider.max_parallel_requests
    if data.max_parallel_requests is not None and effective_max_parallel(configured) != configured:
        logger.warning(
            "provider %s has max_parallel_requests %d; workers treat it as %d",
            provider.name,
            configured,
            effective_max_parallel(configured),
        )
    return provider

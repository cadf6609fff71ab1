"""Creating and updating providers.

A provider's limits are read by every worker every few seconds, so an edit here
is how an operator steers live parallelism and requests per minute.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modeldesk.auth.principal import Principal
from modeldesk.catalog.audit import provider_snapshot, record_audit
from modeldesk.catalog.inputs import ProviderCreate, ProviderUpdate
from modeldesk.catalog.integrity import translate_integrity_error
from modeldesk.db.catalog_version import bump_catalog_version
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.errors import NotFoundError

logger = logging.getLogger(__name__)


async def create_provider(db: Database, actor: Principal, data: ProviderCreate) -> LlmProvider:
    actor.require_admin("creating a provider")
    provider = LlmProvider(
        name=data.name,
        display_name=data.display_name,
        api_style=data.api_style.value,
        base_url=data.base_url,
        api_key_env=data.api_key_env,
        max_parallel_requests=data.max_parallel_requests,
        requests_per_minute=data.requests_per_minute,
        is_enabled=True,
    )
    try:
        async with db.transaction() as session:
            session.add(provider)
            await session.flush()
            await session.refresh(provider)
            record_audit(
                session,
                actor,
                "provider.create",
                "provider",
                provider.id,
                after=provider_snapshot(provider),
            )
            await bump_catalog_version(session)
    except IntegrityError as exc:
        raise translate_integrity_error(exc) from exc
    logger.info("provider created: %s (id %s) by %s", provider.name, provider.id, actor.name)
    return provider


async def update_provider(
    db: Database, actor: Principal, provider_id: int, data: ProviderUpdate
) -> LlmProvider:
    actor.require_admin("updating a provider")
    async with db.transaction() as session:
        provider = await session.scalar(
            select(LlmProvider).where(LlmProvider.id == provider_id).with_for_update()
        )
        if provider is None:
            raise NotFoundError(f"No provider with id {provider_id}.")
        before = provider_snapshot(provider)
        if data.max_parallel_requests is not None:
            provider.max_parallel_requests = data.max_parallel_requests
        if data.requests_per_minute is not None:
            provider.requests_per_minute = data.requests_per_minute
        if data.is_enabled is not None:
            provider.is_enabled = data.is_enabled
        if data.base_url is not None or data.clear_base_url:
            provider.base_url = data.base_url
        if data.display_name is not None:
            provider.display_name = data.display_name
        await session.flush()
        await session.refresh(provider)
        after = provider_snapshot(provider)
        if after != before:
            record_audit(
                session,
                actor,
                "provider.update",
                "provider",
                provider.id,
                before=before,
                after=after,
            )
            await bump_catalog_version(session)
    if data.max_parallel_requests == 0:
        logger.warning(
            "provider %s has max_parallel_requests 0; workers treat it as 1", provider.name
        )
    return provider

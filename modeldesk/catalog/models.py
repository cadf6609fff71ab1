"""A model's lifecycle: create, edit, deprecate, reactivate, set default.

Anything that touches a provider's default first locks that provider's row, so
concurrent default changes queue up instead of racing; the partial unique index
stays the final guard. Run creation share-locks the same rows in the same order
while it checks its target models (`runs.model_selection`), so a deprecation
and a run being created wait for each other instead of racing. Each change
writes its audit entry and bumps the catalogue version in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth import Principal
from modeldesk.catalog.audit import CatalogChange, model_snapshot, record_catalog_changes
from modeldesk.catalog.inputs import ModelCreate, ModelUpdate
from modeldesk.catalog.integrity import guarded_transaction
from modeldesk.catalog.price_sets import tier_columns
from modeldesk.catalog.providers import lock_provider
from modeldesk.db.price_versions import open_price_version
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.enums import ModelStatus
from modeldesk.errors import ModelDeprecatedError, NotFoundError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeprecateResult:
    model: LlmModel
    # The model promoted in its place when it was the default; None when none is left
    # or when it was not the default.
    new_default: LlmModel | None
    was_default: bool


@dataclass(frozen=True)
class SetDefaultResult:
    model: LlmModel
    previous_default: LlmModel | None


async def _lock_model(session: AsyncSession, model_id: int) -> LlmModel:
    """Lock the model's provider, then the model: always in that order, to avoid deadlocks."""
    provider_id = await session.scalar(select(LlmModel.provider_id).where(LlmModel.id == model_id))
    if provider_id is None:
        raise NotFoundError(f"No model with id {model_id}.")
    await lock_provider(session, provider_id)
    model = await session.scalar(select(LlmModel).where(LlmModel.id == model_id).with_for_update())
    assert model is not None  # models are never deleted, and we hold the provider lock
    return model


async def _current_default(session: AsyncSession, provider_id: int) -> LlmModel | None:
    return await session.scalar(
        select(LlmModel).where(LlmModel.provider_id == provider_id, LlmModel.is_default.is_(True))
    )


async def _clear_default(session: AsyncSession, provider_id: int) -> None:
    await session.execute(
        update(LlmModel)
        .where(LlmModel.provider_id == provider_id, LlmModel.is_default.is_(True))
        .values(is_default=False)
    )


async def _model_change(
    session: AsyncSession, action: str, model: LlmModel, before: dict[str, object] | None = None
) -> CatalogChange:
    """`model`'s change for the audit log, its `after` read back as the database holds it."""
    await session.flush()
    await session.refresh(model)
    return CatalogChange(action, "model", model.id, before, model_snapshot(model))


async def _successor(session: AsyncSession, model: LlmModel) -> LlmModel | None:
    """The active model that takes over as default when `model` is deprecated."""
    successor: LlmModel | None = await session.scalar(
        select(LlmModel)
        .where(
            LlmModel.provider_id == model.provider_id,
            LlmModel.status == ModelStatus.ACTIVE.value,
            LlmModel.id != model.id,
        )
        .order_by(LlmModel.id)
        .limit(1)
    )
    return successor


async def default_successor(db: Database, model: LlmModel) -> LlmModel | None:
    """Who would become default if `model` were deprecated now, so a confirmation can say so."""
    async with db.session() as session:
        return await _successor(session, model)


async def create_model(db: Database, actor: Principal, data: ModelCreate) -> LlmModel:
    actor.require_admin("creating a model")
    async with guarded_transaction(db) as session:
        await lock_provider(session, data.provider_id)
        if data.set_as_default:
            await _clear_default(session, data.provider_id)
        model = LlmModel(
            provider_id=data.provider_id,
            model_id=data.model_id,
            display_name=data.display_name,
            cost_input_per_million=data.cost_input_per_million,
            cost_output_per_million=data.cost_output_per_million,
            cost_cached_input_per_million=data.cost_cached_input_per_million,
            cost_cache_write_per_million=data.cost_cache_write_per_million,
            **tier_columns(data.long_context_tier),
            status=ModelStatus.ACTIVE.value,
            is_default=data.set_as_default,
        )
        session.add(model)
        await session.flush()
        await open_price_version(session, model)
        created = await _model_change(session, "model.create", model)
        await record_catalog_changes(session, actor, created)
    logger.info("model created: %s (id %s) by %s", model.model_id, model.id, actor.name)
    return model


async def update_model(
    db: Database, actor: Principal, model_id: int, data: ModelUpdate
) -> LlmModel:
    """Change display name and prices; a price change opens a new price version."""
    actor.require_admin("editing a model")
    async with db.transaction() as session:
        model = await _lock_model(session, model_id)
        before = model_snapshot(model)
        if data.display_name is not None:
            model.display_name = data.display_name
        prices_changed = False
        for field in (
            "cost_input_per_million",
            "cost_output_per_million",
            "cost_cached_input_per_million",
            "cost_cache_write_per_million",
        ):
            new = getattr(data, field)
            if new is not None and new != getattr(model, field):
                setattr(model, field, new)
                prices_changed = True
        if data.long_context_tier is not None or data.clear_long_context_tier:
            for column, new in tier_columns(data.long_context_tier).items():
                if new != getattr(model, column):
                    setattr(model, column, new)
                    prices_changed = True
        await session.flush()
        if prices_changed:
            await open_price_version(session, model)
        updated = await _model_change(session, "model.update", model, before)
        if updated.after != before:
            await record_catalog_changes(session, actor, updated)
    return model


async def deprecate_model(db: Database, actor: Principal, model_id: int) -> DeprecateResult:
    """Hide a model from new runs; if it was the default, promote the next active model."""
    actor.require_admin("deprecating a model")
    async with db.transaction() as session:
        model = await _lock_model(session, model_id)
        if model.status == ModelStatus.DEPRECATED.value:
            return DeprecateResult(model=model, new_default=None, was_default=False)
        before = model_snapshot(model)
        was_default = model.is_default
        model.status = ModelStatus.DEPRECATED.value
        model.is_default = False
        await session.flush()
        changes: list[CatalogChange] = []
        new_default: LlmModel | None = None
        if was_default:
            new_default = await _successor(session, model)
            if new_default is not None:
                new_default_before = model_snapshot(new_default)
                new_default.is_default = True
                changes.append(
                    await _model_change(
                        session, "model.set_default", new_default, new_default_before
                    )
                )
            else:
                logger.warning(
                    "provider %s has no active model left to be default", model.provider_id
                )
        changes.append(await _model_change(session, "model.deprecate", model, before))
        await record_catalog_changes(session, actor, *changes)
    return DeprecateResult(model=model, new_default=new_default, was_default=was_default)


async def reactivate_model(db: Database, actor: Principal, model_id: int) -> LlmModel:
    actor.require_admin("reactivating a model")
    async with db.transaction() as session:
        model = await _lock_model(session, model_id)
        if model.status == ModelStatus.ACTIVE.value:
            return model
        before = model_snapshot(model)
        model.status = ModelStatus.ACTIVE.value
        reactivated = await _model_change(session, "model.reactivate", model, before)
        await record_catalog_changes(session, actor, reactivated)
    return model


async def set_default_model(db: Database, actor: Principal, model_id: int) -> SetDefaultResult:
    """Make a model its provider's one default, in one transaction; names the previous one."""
    actor.require_admin("setting the default model")
    async with db.transaction() as session:
        model = await _lock_model(session, model_id)
        if model.status != ModelStatus.ACTIVE.value:
            raise ModelDeprecatedError(
                f"{model.model_id} is deprecated and cannot be the default; reactivate it first."
            )
        previous = await _current_default(session, model.provider_id)
        if previous is not None and previous.id == model.id:
            return SetDefaultResult(model=model, previous_default=previous)
        before = model_snapshot(model)
        await _clear_default(session, model.provider_id)
        model.is_default = True
        await session.flush()
        if previous is not None:
            await session.refresh(previous)
        made_default = await _model_change(session, "model.set_default", model, before)
        await record_catalog_changes(session, actor, made_default)
    return SetDefaultResult(model=model, previous_default=previous)

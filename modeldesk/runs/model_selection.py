"""Which models a run targets, and why a requested model is refused.

Models are named by database id ("12") or as "provider/model_id"; never by
guessing a provider from a model name. Every offending model is reported in
one error, so the operator fixes the whole list at once:

- all offenders share a reason: that reason's code (MODEL_NOT_FOUND,
  MODEL_DEPRECATED or PROVIDER_DISABLED);
- mixed reasons: VALIDATION_ERROR, since no single code is true of all.

Either way `details["models"]` lists each offender with its own code, so a
client never has to parse the message. The message names a model as
`provider/model_id (Display Name)`: the UI sends database ids, and "2 is
deprecated" tells a person nothing.

Run creation selects with `lock=True`, inside the transaction that inserts the
run: the providers' rows, then the models' rows, FOR SHARE and in id order.
Deprecating a model and updating a provider lock the same rows FOR UPDATE,
provider first (`catalog.models._lock_model`), so each waits for the other: a
model deprecated (or a provider disabled) while a run is being created is
either refused or changed only after the run exists. Locking in the same order
on both sides keeps them from deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.catalog import provider_has_key
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import ModelStatus
from modeldesk.errors import (
    ErrorCode,
    ModelDeprecatedError,
    ModeldeskError,
    ModelNotFoundError,
    ProviderDisabledError,
    ValidationError,
)
from modeldesk.input_rules import MAX_ECHO, as_db_id, check_characters, cut_echo

_ERRORS: dict[ErrorCode, type[ModeldeskError]] = {
    ErrorCode.MODEL_NOT_FOUND: ModelNotFoundError,
    ErrorCode.MODEL_DEPRECATED: ModelDeprecatedError,
    ErrorCode.PROVIDER_DISABLED: ProviderDisabledError,
}

# A database id, or a (provider name, model_id) pair.
_Reference = int | tuple[str, str]

# The most models one run (or estimate) may name: far beyond any catalogue, and
# checked before any query, whose parameters PostgreSQL caps at 32767.
MAX_MODELS = 1000


class _Unmatched(StrEnum):
    """A reference no model can match, worded as the reason given for it."""

    NO_SUCH_MODEL = "does not exist"
    MALFORMED = "is neither a model id nor provider/model_id"


@dataclass(frozen=True)
class TargetModel:
    model: LlmModel
    provider: LlmProvider

    @property
    def label(self) -> str:
        return f"{self.provider.name}/{self.model.model_id}"

    @property
    def full_name(self) -> str:
        """How a person is told which model: `provider/model_id (Display Name)`."""
        return f"{self.label} ({self.model.display_name})"


@dataclass(frozen=True)
class _Offender:
    given: str
    code: ErrorCode
    reason: str
    # None when nothing matched `given`.
    target: TargetModel | None = None

    @property
    def sentence(self) -> str:
        name = f"model {cut_echo(self.given)}" if self.target is None else self.target.full_name
        return f"{name} {self.reason}"

    def to_json(self) -> dict[str, Any]:
        known = self.target
        return {
            "model": self.given[:MAX_ECHO] if known is None else known.label,
            "displayName": None if known is None else known.model.display_name,
            "id": None if known is None else str(known.model.id),
            "given": self.given[:MAX_ECHO],
            "code": self.code.value,
            "reason": self.reason,
        }


def check_model_count(references: Sequence[str] | None) -> None:
    """VALIDATION_ERROR when more than MAX_MODELS models are named; call before any SQL."""
    if references is not None and len(references) > MAX_MODELS:
        raise ValidationError(
            f"models may name at most {MAX_MODELS} models (got {len(references)}).",
            field="models",
        )


def _parse_reference(text: str) -> _Reference | _Unmatched:
    """A database id, a (provider, model_id) pair, or why `text` can match no model."""
    if text.isascii() and text.isdecimal():
        # Digits beyond any BIGINT id name no model; they must not reach the query.
        model_pk = as_db_id(text)
        return _Unmatched.NO_SUCH_MODEL if model_pk is None else model_pk
    provider, slash, model_id = text.partition("/")
    if slash and provider and model_id:
        return (provider, model_id)
    return _Unmatched.MALFORMED


def _matching(references: Sequence[_Reference]) -> ColumnElement[bool] | None:
    ids = [r for r in references if isinstance(r, int)]
    pairs = [r for r in references if isinstance(r, tuple)]
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(LlmModel.id.in_(ids))
    if pairs:
        conditions.append(tuple_(LlmProvider.name, LlmModel.model_id).in_(pairs))
    return or_(*conditions) if conditions else None


async def _share_lock_providers(session: AsyncSession, provider_ids: Sequence[int]) -> None:
    """FOR SHARE on the providers, in id order: a concurrent disable or deprecate waits."""
    await session.execute(
        select(LlmProvider.id)
        .where(LlmProvider.id.in_(provider_ids))
        .order_by(LlmProvider.id)
        .with_for_update(read=True)
    )


async def _lookup(
    session: AsyncSession, references: Sequence[_Reference], *, lock: bool
) -> list[tuple[LlmModel, LlmProvider]]:
    condition = _matching(references)
    if condition is None:
        return []
    on_provider = LlmProvider.id == LlmModel.provider_id
    query = select(LlmModel, LlmProvider).join(LlmProvider, on_provider).where(condition)
    if lock:
        # A model's provider never changes, so its id can be read before the lock.
        provider_ids = await session.scalars(
            select(LlmModel.provider_id).join(LlmProvider, on_provider).where(condition).distinct()
        )
        await _share_lock_providers(session, list(provider_ids))
        # A locking read sees the latest committed row, even one changed while it waited.
        query = query.order_by(LlmModel.id).with_for_update(read=True, of=LlmModel)
    rows = await session.execute(query)
    return [(model, provider) for model, provider in rows.all()]


def _refusal(target: TargetModel) -> tuple[ErrorCode, str] | None:
    if target.model.status == ModelStatus.DEPRECATED.value:
        return ErrorCode.MODEL_DEPRECATED, "is deprecated"
    if not target.provider.is_enabled:
        return ErrorCode.PROVIDER_DISABLED, f"belongs to disabled provider {target.provider.name}"
    return None


def _raise_for(offenders: list[_Offender]) -> None:
    listed = "; ".join(o.sentence for o in offenders)
    message = f"These models cannot be used: {listed}."
    details = {"models": [o.to_json() for o in offenders]}
    codes = {o.code for o in offenders}
    if len(codes) == 1:
        (code,) = codes
        raise _ERRORS[code](message, details=details)
    raise ValidationError(message, field="models", details=details)


async def _resolve_models(
    session: AsyncSession, references: Sequence[str], *, lock: bool
) -> list[TargetModel]:
    """The models named by `references`, in the given order, duplicates dropped.

    Raises one error naming every unknown, deprecated or disabled model.
    """
    given = [check_characters(ref.strip(), f"models[{i}]") for i, ref in enumerate(references)]
    parsed = [(text, _parse_reference(text)) for text in given]
    found = await _lookup(
        session, [key for _, key in parsed if not isinstance(key, _Unmatched)], lock=lock
    )
    by_id = {model.id: TargetModel(model, provider) for model, provider in found}
    by_pair = {(t.provider.name, t.model.model_id): t for t in by_id.values()}
    targets: dict[int, TargetModel] = {}
    offenders: list[_Offender] = []
    for text, key in parsed:
        if isinstance(key, _Unmatched):
            offenders.append(_Offender(text, ErrorCode.MODEL_NOT_FOUND, key.value))
            continue
        target = by_id.get(key) if isinstance(key, int) else by_pair.get(key)
        if target is None:
            offenders.append(_Offender(text, ErrorCode.MODEL_NOT_FOUND, "does not exist"))
            continue
        refusal = _refusal(target)
        if refusal is not None:
            offenders.append(_Offender(text, *refusal, target=target))
            continue
        targets.setdefault(target.model.id, target)
    if offenders:
        _raise_for(offenders)
    return list(targets.values())


async def _default_models(session: AsyncSession, *, lock: bool) -> list[TargetModel]:
    providers_query = (
        select(LlmProvider).where(LlmProvider.is_enabled.is_(True)).order_by(LlmProvider.id)
    )
    models_query = select(LlmModel).where(LlmModel.is_default.is_(True)).order_by(LlmModel.id)
    if lock:
        # Providers first, as in `_lookup`; a provider disabled meanwhile drops out here.
        providers_query = providers_query.with_for_update(read=True)
        models_query = models_query.with_for_update(read=True)
    keyed = [p for p in await session.scalars(providers_query) if provider_has_key(p)]
    defaults = {
        model.provider_id: model
        for model in await session.scalars(
            models_query.where(LlmModel.provider_id.in_([p.id for p in keyed]))
        )
    }
    chosen = [TargetModel(defaults[p.id], p) for p in keyed if p.id in defaults]
    if not chosen:
        raise ValidationError(
            "No models were given, and no enabled provider with a configured API key has a "
            "default model. Name the models, or set a provider's key and default model.",
            field="models",
        )
    return chosen


async def default_models(db: Database) -> list[TargetModel]:
    """The default model of every enabled provider whose API key is configured."""
    async with db.session() as session:
        return await _default_models(session, lock=False)


async def select_models(
    session: AsyncSession, references: Sequence[str] | None, *, lock: bool
) -> list[TargetModel]:
    """The run's targets: the named models, or the defaults when none are named.

    `lock=True` (run creation, inside its transaction) holds share locks on the
    targets and their providers until the transaction ends; a mere estimate
    reads without them.
    """
    if not references:
        return await _default_models(session, lock=lock)
    return await _resolve_models(session, references, lock=lock)

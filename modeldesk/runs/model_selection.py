"""Which models a run targets, and why a requested model is refused.

Models are named by database id ("12") or as "provider/model_id"; never by
guessing a provider from a model name. Every offending model is reported in
one error, so the operator fixes the whole list at once:

- all offenders share a reason: that reason's code (MODEL_NOT_FOUND,
  MODEL_DEPRECATED or PROVIDER_DISABLED);
- mixed reasons: VALIDATION_ERROR, since no single code is true of all.

Either way `details["models"]` lists each offender with its own code, so a
client never has to parse the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, tuple_

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

_ERRORS: dict[ErrorCode, type[ModeldeskError]] = {
    ErrorCode.MODEL_NOT_FOUND: ModelNotFoundError,
    ErrorCode.MODEL_DEPRECATED: ModelDeprecatedError,
    ErrorCode.PROVIDER_DISABLED: ProviderDisabledError,
}


@dataclass(frozen=True)
class TargetModel:
    model: LlmModel
    provider: LlmProvider

    @property
    def label(self) -> str:
        return f"{self.provider.name}/{self.model.model_id}"


@dataclass(frozen=True)
class _Offender:
    reference: str
    code: ErrorCode
    reason: str


def _parse_reference(reference: str) -> int | tuple[str, str] | None:
    """A database id, a (provider, model_id) pair, or None when it is neither."""
    text = reference.strip()
    if text.isdigit():
        return int(text)
    provider, slash, model_id = text.partition("/")
    if slash and provider and model_id:
        return (provider, model_id)
    return None


async def _lookup(
    db: Database, references: Sequence[int | tuple[str, str]]
) -> list[tuple[LlmModel, LlmProvider]]:
    ids = [r for r in references if isinstance(r, int)]
    pairs = [r for r in references if isinstance(r, tuple)]
    conditions = []
    if ids:
        conditions.append(LlmModel.id.in_(ids))
    if pairs:
        conditions.append(tuple_(LlmProvider.name, LlmModel.model_id).in_(pairs))
    if not conditions:
        return []
    async with db.session() as session:
        rows = await session.execute(
            select(LlmModel, LlmProvider)
            .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
            .where(or_(*conditions))
        )
        return [(model, provider) for model, provider in rows.all()]


def _refusal(model: LlmModel, provider: LlmProvider) -> tuple[ErrorCode, str] | None:
    if model.status == ModelStatus.DEPRECATED.value:
        return ErrorCode.MODEL_DEPRECATED, "is deprecated"
    if not provider.is_enabled:
        return ErrorCode.PROVIDER_DISABLED, f"belongs to disabled provider {provider.name}"
    return None


def _raise_for(offenders: list[_Offender]) -> None:
    listed = "; ".join(f"{o.reference} {o.reason}" for o in offenders)
    details = {
        "models": [
            {"model": o.reference, "code": o.code.value, "reason": o.reason} for o in offenders
        ]
    }
    codes = {o.code for o in offenders}
    if len(codes) == 1:
        (code,) = codes
        raise _ERRORS[code](f"These models cannot be used: {listed}.", details=details)
    raise ValidationError(
        f"These models cannot be used: {listed}.", field="models", details=details
    )


async def resolve_models(db: Database, references: Sequence[str]) -> list[TargetModel]:
    """The models named by `references`, in the given order, duplicates dropped.

    Raises one error naming every unknown, deprecated or disabled model.
    """
    parsed = [(ref.strip(), _parse_reference(ref)) for ref in references]
    found = await _lookup(db, [p for _, p in parsed if p is not None])
    by_id = {model.id: (model, provider) for model, provider in found}
    by_pair = {(provider.name, model.model_id): (model, provider) for model, provider in found}
    targets: dict[int, TargetModel] = {}
    offenders: list[_Offender] = []
    for reference, key in parsed:
        if key is None:
            reason = "is neither a model id nor provider/model_id"
            offenders.append(_Offender(reference, ErrorCode.MODEL_NOT_FOUND, reason))
            continue
        row = by_id.get(key) if isinstance(key, int) else by_pair.get(key)
        if row is None:
            offenders.append(_Offender(reference, ErrorCode.MODEL_NOT_FOUND, "does not exist"))
            continue
        refusal = _refusal(*row)
        if refusal is not None:
            offenders.append(_Offender(reference, *refusal))
            continue
        targets.setdefault(row[0].id, TargetModel(*row))
    if offenders:
        _raise_for(offenders)
    return list(targets.values())


async def default_models(db: Database) -> list[TargetModel]:
    """The default model of every enabled provider whose API key is configured."""
    async with db.session() as session:
        rows = await session.execute(
            select(LlmModel, LlmProvider)
            .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
            .where(LlmModel.is_default.is_(True), LlmProvider.is_enabled.is_(True))
            .order_by(LlmProvider.id)
        )
        chosen = [TargetModel(m, p) for m, p in rows.all() if provider_has_key(p)]
    if not chosen:
        raise ValidationError(
            "No models were given, and no enabled provider with a configured API key has a "
            "default model. Name the models, or set a provider's key and default model.",
            field="models",
        )
    return chosen


async def select_models(db: Database, references: Sequence[str] | None) -> list[TargetModel]:
    """The run's targets: the named models, or the defaults when none are named."""
    if not references:
        return await default_models(db)
    return await resolve_models(db, references)

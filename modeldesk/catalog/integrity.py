"""Turning constraint violations into typed errors.

The database is the final guard (two concurrent requests can both pass a check
in code); this maps the constraint that fired to the error a user understands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.db.session import Database
from modeldesk.errors import ConflictError, ModeldeskError, ValidationError

_MESSAGES: dict[str, ModeldeskError] = {
    "uq_llm_models_provider_model": ConflictError(
        "This provider already has a model with that model id."
    ),
    "uq_llm_models_one_default_per_provider": ConflictError(
        "Another model became this provider's default at the same time; try again."
    ),
    "uq_llm_providers_name": ConflictError("A provider with that name already exists."),
    "ck_llm_models_default_is_active": ValidationError("A deprecated model cannot be the default."),
}


def translate_integrity_error(exc: IntegrityError) -> ModeldeskError:
    constraint = getattr(getattr(exc.orig, "__cause__", None), "constraint_name", None)
    text = str(exc.orig)
    for name, error in _MESSAGES.items():
        if constraint == name or name in text:
            return type(error)(error.message)
    if "violates check constraint" in text:
        return ValidationError("A value is out of range (prices and limits must be 0 or more).")
    if "violates foreign key constraint" in text:
        return ConflictError("The row is still referenced and cannot be changed this way.")
    return ConflictError("The change conflicts with the current data.")


@asynccontextmanager
async def guarded_transaction(db: Database) -> AsyncIterator[AsyncSession]:
    """`db.transaction()`, a constraint it violates raised as the typed error for it."""
    try:
        async with db.transaction() as session:
            yield session
    except IntegrityError as exc:
        raise translate_integrity_error(exc) from exc

"""Typed shorthands for Strawberry field decorators that take options.

`strawberry.field(description=...)` and `strawberry.mutation(permission_classes=...)`
are untyped once given options, which strict mypy refuses; these keep the
resolver's own signature visible to the type checker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

from modeldesk.api.permissions import ADMIN_ONLY

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def described(description: str, *, graphql_type: Any = None) -> Callable[[Resolver], Resolver]:
    """`graphql_type` names the field's type when the resolver's annotation cannot."""

    def decorate(resolver: Resolver) -> Resolver:
        field = strawberry.field(resolver, description=description, graphql_type=graphql_type)
        return cast(Resolver, field)

    return decorate


def admin_field(resolver: Resolver) -> Resolver:
    """A read only an admin may make."""
    return cast(Resolver, strawberry.field(resolver, permission_classes=ADMIN_ONLY))


def admin_mutation(resolver: Resolver) -> Resolver:
    """Every mutation is declared with this: only an admin may change anything."""
    return cast(Resolver, strawberry.mutation(resolver, permission_classes=ADMIN_ONLY))

"""Hashed bearer tokens with roles and revocation.

Tokens are random and long, so a plain SHA-256 is enough to store them safely:
there is nothing to brute-force, and lookup stays a single indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.db.tables import ApiToken
from modeldesk.enums import Role
from modeldesk.errors import NotFoundError, UnauthenticatedError, ValidationError

TOKEN_PREFIX = "mdk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(db: Database, *, role: Role | str, name: str) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError(f"Unknown role {role!r}; use admin or viewer.", field="role") from exc
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("A token name must be 1 to 200 characters.", field="name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name, role=role.value, token_hash=hash_token(plain), token_prefix=plain[:12]
    )
    async with db.transaction() as session:
        session.add(row)
    return row, plain


async def authenticate_token(db: Database, token: str | None) -> Principal:
    """The principal a token stands for; UNAUTHENTICATED when it is missing, unknown or revoked."""
    if not token:
        raise UnauthenticatedError("Sign in: send 'Authorization: Bearer <token>'.")
    async with db.session() as session:
        row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        raise UnauthenticatedError("The token is unknown or has been revoked.")
    return Principal(name=row.name, role=Role(row.role), token_id=row.id)


async def has_admin_token(db: Database) -> bool:
    async with db.session() as session:
        found = await session.scalar(
            select(ApiToken.id)
            .where(ApiToken.role == Role.ADMIN.value, ApiToken.revoked_at.is_(None))
            .limit(1)
        )
    return found is not None


async def list_tokens(db: Database) -> list[ApiToken]:
    async with db.session() as session:
        return list(await session.scalars(select(ApiToken).order_by(ApiToken.id)))


async def revoke_token(db: Database, token_id: int) -> ApiToken:
    async with db.transaction() as session:
        row: ApiToken | None = await session.scalar(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(revoked_at=datetime.now(UTC))
            .returning(ApiToken)
        )
        if row is None:
            raise NotFoundError(f"No token with id {token_id}.")
    return row

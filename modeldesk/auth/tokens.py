"""Hashed bearer tokens with roles and revocation.

Tokens are random and long, so a plain SHA-256 is enough to store them safely:
there is nothing to brute-force, and lookup stays a single indexed query.

Creating or revoking a token writes an audit entry (never the token or its hash)
and NOTIFYs `TOKEN_CHANNEL` in the same transaction, so a process that keeps
tokens in memory learns at commit time that its copy is out of date.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth.principal import Principal
from modeldesk.db.audit_log import record_audit
from modeldesk.db.session import Database
from modeldesk.db.tables import ApiToken
from modeldesk.enums import Role
from modeldesk.errors import ConflictError, NotFoundError, UnauthenticatedError, ValidationError
from modeldesk.input_rules import clean_text, echoed, is_db_id

logger = logging.getLogger(__name__)

_BEARER = "bearer "

TOKEN_PREFIX = "mdk_"
TOKEN_CHANNEL = "modeldesk_tokens"
TOKEN_ENTITY = "token"
# The actor of the CLI and of `serve`'s first start: whoever can run them owns the server.
MAINTENANCE = Principal.system()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _described(row: ApiToken) -> dict[str, Any]:
    """What the audit log keeps of a token: enough to recognise it, nothing to use it."""
    return {
        "name": row.name,
        "role": row.role,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


async def _record_change(
    session: AsyncSession,
    actor: Principal,
    action: str,
    row: ApiToken,
    before: dict[str, Any] | None,
) -> None:
    record_audit(session, actor, action, TOKEN_ENTITY, row.id, before=before, after=_described(row))
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {"channel": TOKEN_CHANNEL, "payload": str(row.id)},
    )


async def create_token(
    db: Database, *, role: Role | str, name: str, actor: Principal = MAINTENANCE
) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    actor.require_admin("creating API tokens")
    try:
        role = Role(role)
    except ValueError as exc:
        raise ValidationError(
            f"Unknown role {echoed(role)}; use admin or viewer.", field="role"
        ) from exc
    name = clean_text(name, "name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name, role=role.value, token_hash=hash_token(plain), token_prefix=plain[:12]
    )
    async with db.transaction() as session:
        session.add(row)
        await session.flush()
        await _record_change(session, actor, "token.create", row, before=None)
    logger.info("token #%s (%s, %s) created by %s", row.id, row.role, row.name, actor.name)
    return row, plain


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (any case); None otherwise."""
    if authorization and authorization[: len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER) :].strip() or None
    return None


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


async def _lock_active_admin_ids(session: AsyncSession) -> set[int]:
    """Lock every active admin token, so two revocations cannot each leave "one other" admin."""
    rows = await session.scalars(
        select(ApiToken.id)
        .where(ApiToken.role == Role.ADMIN.value, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)  # one locking order everywhere: no deadlock between two revokers
        .with_for_update()
    )
    return set(rows)


async def revoke_token(db: Database, token_id: int, *, actor: Principal = MAINTENANCE) -> ApiToken:
    """Revoke a token; revoking it again changes nothing.

    The last active admin token cannot be revoked: nobody could then change the
    catalogue or create a new token except from the server's command line.
    """
    actor.require_admin("revoking API tokens")
    async with db.transaction() as session:
        active_admins = await _lock_active_admin_ids(session)
        row = (
            await session.scalar(select(ApiToken).where(ApiToken.id == token_id).with_for_update())
            if is_db_id(token_id)
            else None
        )
        if row is None:
            raise NotFoundError(f"No token with id {token_id}.")
        if row.revoked_at is not None:
            return row
        if active_admins == {row.id}:
            raise ConflictError(
                f"Token #{row.id} ({row.name}) is the last active admin token; create another "
                "admin token first (modeldesk token create --role admin), then revoke this one."
            )
        before = _described(row)
        row.revoked_at = datetime.now(UTC)
        await session.flush()
        await _record_change(session, actor, "token.revoke", row, before=before)
    logger.info("token #%s (%s, %s) revoked by %s", row.id, row.role, row.name, actor.name)
    return row

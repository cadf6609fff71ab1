"""UI sessions and one-time sign-in codes, kept in PostgreSQL (SPEC 9.6).

A session cookie holds a random id (`mds_…`) whose SHA-256 is a row here; the
API token that opened it never leaves the server again. A session ends when
it is signed out, when its token is revoked (every lookup joins the token, so
this holds in every process at once), or after `SESSION_IDLE` without a
request. Its last-seen time is written at most once per `TOUCH_INTERVAL`, so
a page view costs one read, not a write.

`serve` prints a sign-in URL with a one-time code (`mdc_…`) rather than the
token: the URL can land in a shell history, a screen share or a proxy log,
and the code is worth nothing once used or `SIGN_IN_CODE_LIFETIME` old. It
does so for the first admin (`first_admin_sign_in_code`): a server with no
active admin token gets one, so somebody can always sign in to manage it.

Secrets have recognisable prefixes so that log redaction can find them by
their shape, whatever parameter they travel in (see `log_format`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update

from modeldesk.auth.principal import Principal
from modeldesk.auth.tokens import create_token, has_admin_token, hash_token
from modeldesk.db.auth_tables import SignInCode, UiSession
from modeldesk.db.session import Database
from modeldesk.db.tables import ApiToken
from modeldesk.enums import Role
from modeldesk.errors import UnauthenticatedError

logger = logging.getLogger(__name__)

SESSION_PREFIX = "mds_"
CODE_PREFIX = "mdc_"
SESSION_IDLE = timedelta(days=7)
SIGN_IN_CODE_LIFETIME = timedelta(minutes=15)
TOUCH_INTERVAL = timedelta(minutes=5)
_CODE_REFUSED = "The sign-in code is unknown, used or expired; ask for a new sign-in link."


@dataclass(frozen=True)
class UiSessionState:
    """A live session: who it signs in, and its row."""

    session_id: int
    principal: Principal


def _principal(token: ApiToken) -> Principal:
    return Principal(name=token.name, role=Role(token.role), token_id=token.id)


async def open_session(db: Database, principal: Principal) -> str:
    """A new session for `principal` (signed in with a token or a code); returns the
    cookie value, which is stored only as its hash. Sessions that can no longer be
    used are deleted on the way, so the table holds live ones and a few stale."""
    if principal.token_id is None:
        raise UnauthenticatedError("Only a token's holder can sign in to the UI.")
    secret = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await session.execute(
            delete(UiSession).where(
                or_(UiSession.revoked_at.is_not(None), UiSession.last_seen_at < now - SESSION_IDLE)
            )
        )
        session.add(UiSession(secret_hash=hash_token(secret), token_id=principal.token_id))
    logger.info("UI session opened for %s (token #%s)", principal.name, principal.token_id)
    return secret


async def session_state(db: Database, secret: str | None) -> UiSessionState | None:
    """The live session a cookie value stands for, or None (unknown, signed out,
    idle too long, or its token revoked)."""
    if not secret or not secret.startswith(SESSION_PREFIX):
        return None
    now = datetime.now(UTC)
    async with db.session() as session:
        row = (
            await session.execute(
                select(UiSession.id, UiSession.last_seen_at, ApiToken)
                .join(ApiToken, ApiToken.id == UiSession.token_id)
                .where(
                    UiSession.secret_hash == hash_token(secret),
                    UiSession.revoked_at.is_(None),
                    UiSession.last_seen_at > now - SESSION_IDLE,
                    ApiToken.revoked_at.is_(None),
                )
            )
        ).one_or_none()
        if row is None:
            return None
        session_id, last_seen, token = row
        if last_seen < now - TOUCH_INTERVAL:
            await session.execute(
                update(UiSession).where(UiSession.id == session_id).values(last_seen_at=now)
            )
            await session.commit()
    return UiSessionState(session_id, _principal(token))


async def end_session(db: Database, secret: str | None) -> None:
    """Revoke the session of a cookie value (sign-out); an unknown one changes nothing."""
    if not secret:
        return
    async with db.transaction() as session:
        await session.execute(
            update(UiSession)
            .where(UiSession.secret_hash == hash_token(secret), UiSession.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )


async def create_sign_in_code(db: Database, token_id: int) -> str:
    """A one-time code signing in as token `token_id`, valid for SIGN_IN_CODE_LIFETIME."""
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await session.execute(
            delete(SignInCode).where(
                or_(SignInCode.used_at.is_not(None), SignInCode.expires_at < now)
            )
        )
        session.add(
            SignInCode(
                code_hash=hash_token(code),
                token_id=token_id,
                expires_at=now + SIGN_IN_CODE_LIFETIME,
            )
        )
    return code


async def first_admin_sign_in_code(db: Database) -> str | None:
    """With no active admin token, create one and answer a sign-in code for it; else None."""
    if await has_admin_token(db):
        return None
    row, _ = await create_token(db, role=Role.ADMIN, name="first admin")
    return await create_sign_in_code(db, row.id)


async def _code_token(db: Database, code: str, *, redeem: bool) -> Principal:
    if not code.startswith(CODE_PREFIX):
        raise UnauthenticatedError(_CODE_REFUSED)
    now = datetime.now(UTC)
    usable = (
        SignInCode.code_hash == hash_token(code),
        SignInCode.used_at.is_(None),
        SignInCode.expires_at > now,
    )
    async with db.transaction() as session:
        if redeem:
            # One statement: two requests racing with one code cannot both succeed.
            token_id = await session.scalar(
                update(SignInCode).where(*usable).values(used_at=now).returning(SignInCode.token_id)
            )
        else:
            token_id = await session.scalar(select(SignInCode.token_id).where(*usable))
        token = (
            await session.scalar(
                select(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            )
            if token_id is not None
            else None
        )
    if token is None:
        raise UnauthenticatedError(_CODE_REFUSED)
    return _principal(token)


async def peek_sign_in_code(db: Database, code: str) -> Principal:
    """Who a code signs in as, leaving it usable (for a confirmation page)."""
    return await _code_token(db, code, redeem=False)


async def redeem_sign_in_code(db: Database, code: str) -> Principal:
    """Who a code signs in as; the code cannot be used again."""
    return await _code_token(db, code, redeem=True)

"""UI sessions and one-time sign-in codes, each stored as the SHA-256 of its secret.

A session's cookie holds a random id, never the API token it was opened with
(SPEC 9.6): a stolen cookie is worth one revocable session, and a database
dump reveals no cookie, as only the hash is kept. Both go with their token
(ON DELETE CASCADE), and a revoked token ends them at once, because every
lookup joins the token and checks that it is still active.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from modeldesk.db.tables import Base


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class _ForAToken:
    """A secret (kept as its hash) that signs in as one API token."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = _created_at()


class UiSession(_ForAToken, Base):
    """A signed-in browser; valid while not revoked and seen within the idle limit."""

    __tablename__ = "ui_sessions"

    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    last_seen_at: Mapped[datetime] = _created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInCode(_ForAToken, Base):
    """A one-time code for a token's sign-in URL, as `serve` prints it; used once, or expires."""

    __tablename__ = "sign_in_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

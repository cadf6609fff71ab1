"""Server-side UI sessions and one-time sign-in codes (SPEC 9.6).

- ui_sessions: the SHA-256 of the random id a session cookie holds, its token,
  when it was last seen (sessions end after 7 idle days) and when it was revoked
  (sign-out).
- sign_in_codes: the SHA-256 of a one-time code of `serve`'s sign-in URL, its
  token, when it expires (15 minutes) and when it was used.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _for_a_token(table: str, hash_column: str, *columns: sa.Column[object]) -> None:
    """A table of secrets (kept as hashes) that each sign in as one API token."""
    op.create_table(
        table,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(hash_column, sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        *columns,
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f(f"fk_{table}_token_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(hash_column, name=op.f(f"uq_{table}_{hash_column}")),
    )
    op.create_index(op.f(f"ix_{table}_token_id"), table, ["token_id"])


def upgrade() -> None:
    _for_a_token(
        "ui_sessions",
        "secret_hash",
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    _for_a_token(
        "sign_in_codes",
        "code_hash",
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_codes_token_id"), table_name="sign_in_codes")
    op.drop_table("sign_in_codes")
    op.drop_index(op.f("ix_ui_sessions_token_id"), table_name="ui_sessions")
    op.drop_table("ui_sessions")

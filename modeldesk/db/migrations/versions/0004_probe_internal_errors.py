"""Probes: count the unexpected errors (bugs, not provider failures) of their steps.

A probe whose step keeps failing with an unexpected error is recorded as a
failure after a bounded number of attempts, so its run always finishes; the
count lives on the probe so every worker sees the same number.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "probes",
        sa.Column("internal_errors", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_probes_internal_errors_non_negative"), "probes", "internal_errors >= 0"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_probes_internal_errors_non_negative"), "probes", type_="check")
    op.drop_column("probes", "internal_errors")

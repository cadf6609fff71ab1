"""Definitions: the retry counters of their pending LLM expansion.

The `expand_scenarios` job follows the same backoff policy as probes: its
rate-limit and transient retries, and the unexpected errors (bugs) of its
step, are counted on the definition, so every worker sees the same numbers and
a re-queued job (which keeps its payload) carries on the schedule instead of
restarting it. A new expansion request sets them back to 0.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = (
    "expansion_rate_limit_retries",
    "expansion_transient_retries",
    "expansion_internal_errors",
)
_CHECK = "expansion_counters_non_negative"


def upgrade() -> None:
    for column in _COUNTERS:
        op.add_column(
            "definitions",
            sa.Column(column, sa.Integer(), server_default=sa.text("0"), nullable=False),
        )
    op.create_check_constraint(
        op.f(f"ck_definitions_{_CHECK}"),
        "definitions",
        " AND ".join(f"{column} >= 0" for column in _COUNTERS),
    )


def downgrade() -> None:
    op.drop_constraint(op.f(f"ck_definitions_{_CHECK}"), "definitions", type_="check")
    for column in reversed(_COUNTERS):
        op.drop_column("definitions", column)

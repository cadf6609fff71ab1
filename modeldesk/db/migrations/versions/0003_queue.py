"""Probe queue: pgqueuer's schema, provider holds, the requests-per-minute window.

pgqueuer's tables, enum, trigger and notify function come from its own install
SQL (pgqueuer is pinned to 1.6, whose schema this is); a later pgqueuer with a
different schema gets a migration of its own that runs its upgrade.

`modeldesk_admit_call(provider_id)` decides, for the whole fleet at once,
whether a call of a provider may start now: the provider must be enabled and
not held, and a lane of its sliding 60 s window must be free. It runs in one
round trip under a per-provider transaction lock, so two workers can never
both take the last slot of a window. A caller turned away by a full window is
given a turn in the provider's waiting line: waiters come back one by one at
the provider's rate (within the next two minutes), not all at once whenever a
slot frees, which would re-run every waiting job once per slot.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 08:40:00
"""

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Dollar-quote tag for pgqueuer's script, which itself uses $$ for its function body.
_SCRIPT_TAG = "$pgqueuer_script$"

# The function's SQL, kept as a file so it reads and diffs as SQL.
ADMIT_CALL_SQL = Path(__file__).resolve().parents[1] / "sql" / "0003_admit_call.sql"


def _run_script(script: str) -> None:
    """Run a multi-statement script as one statement (the driver prepares each one)."""
    if _SCRIPT_TAG in script:
        raise RuntimeError("pgqueuer's script contains our quoting tag; pick another")
    op.execute(f"DO $do$ BEGIN EXECUTE {_SCRIPT_TAG}{script}{_SCRIPT_TAG}; END $do$")


def upgrade() -> None:
    _run_script(QueryBuilderEnvironment().build_install_query())
    op.create_table(
        "provider_holds",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_provider_holds_provider_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_provider_holds")),
    )
    op.create_table(
        "provider_request_starts",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("lane >= 0", name=op.f("ck_provider_request_starts_lane_non_negative")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_provider_request_starts_provider_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "lane", name=op.f("pk_provider_request_starts")),
    )
    op.create_table(
        "provider_waiting_lines",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("next_turn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_provider_waiting_lines_provider_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_provider_waiting_lines")),
    )
    op.create_index(
        "ix_provider_request_starts_provider_started",
        "provider_request_starts",
        ["provider_id", "started_at"],
        unique=False,
    )
    op.execute(ADMIT_CALL_SQL.read_text(encoding="utf-8"))


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS modeldesk_admit_call(bigint)")
    op.drop_index(
        "ix_provider_request_starts_provider_started", table_name="provider_request_starts"
    )
    op.drop_table("provider_waiting_lines")
    op.drop_table("provider_request_starts")
    op.drop_table("provider_holds")
    _run_script(QueryBuilderEnvironment().build_uninstall_query())

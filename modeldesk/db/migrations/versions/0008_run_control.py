"""Run control: budget caps, pause, retried probes and their failed attempts.

- runs: `max_cost` (the cap, NULL for none), `spent_cost` (running total of the
  transcripts' costs) and `reserved_cost` (expected cost of the calls in
  flight), so a worker checks the cap against one row; `skipped` and
  `cancelled` count the probes never called, so the run still finishes by its
  counters after a retry. Statuses PAUSED and BUDGET_EXCEEDED.
- probes: state SKIPPED, the reservation of the call in flight and when that
  call started; run_models: the expected tokens per call of a capped run.
- transcripts: status SKIPPED.
- probe_attempts: every failed call of a probe, kept when the probe is retried.

Existing runs get their spent cost and cancelled count from their rows, and
existing failures an attempt each, so history reads the same as new runs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUN_STATUSES = (
    "'PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'CANCELLED', 'FAILED', 'BUDGET_EXCEEDED'"
)
_OLD_RUN_STATUSES = "'PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED'"
_PROBE_STATES = "'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'"
_OLD_PROBE_STATES = "'PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'"
_PROGRESS = (
    "total >= 0 AND completed >= 0 AND failed >= 0 AND skipped >= 0 AND cancelled >= 0"
    " AND completed + failed + skipped + cancelled <= total"
)
_OLD_PROGRESS = "total >= 0 AND completed >= 0 AND failed >= 0 AND completed + failed <= total"


def _replace_check(table: str, name: str, condition: str) -> None:
    op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)


def _zero_integer(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    op.add_column("runs", _zero_integer("skipped"))
    op.add_column("runs", _zero_integer("cancelled"))
    op.add_column("runs", sa.Column("max_cost", sa.Numeric(), nullable=True))
    for column in ("spent_cost", "reserved_cost"):
        op.add_column(
            "runs", sa.Column(column, sa.Numeric(), server_default=sa.text("0"), nullable=False)
        )
    op.execute(
        "UPDATE runs r SET spent_cost = t.cost FROM ("
        " SELECT run_id, sum(estimated_cost) AS cost FROM transcripts GROUP BY run_id) t"
        " WHERE r.id = t.run_id"
    )
    op.execute(
        "UPDATE runs r SET cancelled = p.count FROM ("
        " SELECT run_id, count(*) AS count FROM probes WHERE state = 'CANCELLED'"
        " GROUP BY run_id) p WHERE r.id = p.run_id"
    )
    _replace_check("runs", "status_known", f"status IN ({_RUN_STATUSES})")
    _replace_check("runs", "progress_consistent", _PROGRESS)
    op.create_check_constraint(
        op.f("ck_runs_costs_non_negative"),
        "runs",
        "(max_cost IS NULL OR max_cost >= 0) AND spent_cost >= 0 AND reserved_cost >= 0",
    )

    op.add_column("probes", sa.Column("call_started_at", sa.DateTime(timezone=True)))
    op.add_column("probes", sa.Column("reserved_cost", sa.Numeric(), nullable=True))
    _replace_check("probes", "state_known", f"state IN ({_PROBE_STATES})")
    op.create_check_constraint(
        op.f("ck_probes_reserved_cost_non_negative"), "probes", "reserved_cost >= 0"
    )
    for column in ("expected_input_tokens", "expected_output_tokens"):
        op.add_column("run_models", sa.Column(column, sa.Integer(), nullable=True))
    _replace_check("transcripts", "status_known", "status IN ('SUCCEEDED', 'FAILED', 'SKIPPED')")

    op.create_table(
        "probe_attempts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("probe_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["probe_id"],
            ["probes.id"],
            name=op.f("fk_probe_attempts_probe_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probe_attempts")),
    )
    op.create_index("ix_probe_attempts_probe_id_id", "probe_attempts", ["probe_id", "id"])
    op.execute(
        "INSERT INTO probe_attempts (probe_id, started_at, error_code, message, created_at)"
        " SELECT id, started_at, error_code, error_message, coalesce(finished_at, now())"
        " FROM probes WHERE state = 'FAILED' AND error_code IS NOT NULL ORDER BY id"
    )


def downgrade() -> None:
    op.drop_index("ix_probe_attempts_probe_id_id", table_name="probe_attempts")
    op.drop_table("probe_attempts")
    # What the older schema cannot say: a skipped probe was never called, like a
    # cancelled one; a paused run is still running; a stopped run was cancelled.
    op.execute("DELETE FROM transcripts WHERE status = 'SKIPPED'")
    op.execute("UPDATE probes SET state = 'CANCELLED' WHERE state = 'SKIPPED'")
    op.execute("UPDATE runs SET status = 'RUNNING' WHERE status = 'PAUSED'")
    op.execute("UPDATE runs SET status = 'CANCELLED' WHERE status = 'BUDGET_EXCEEDED'")
    _replace_check("transcripts", "status_known", "status IN ('SUCCEEDED', 'FAILED')")
    for column in ("expected_output_tokens", "expected_input_tokens"):
        op.drop_column("run_models", column)
    op.drop_constraint(op.f("ck_probes_reserved_cost_non_negative"), "probes", type_="check")
    _replace_check("probes", "state_known", f"state IN ({_OLD_PROBE_STATES})")
    op.drop_column("probes", "reserved_cost")
    op.drop_column("probes", "call_started_at")
    op.drop_constraint(op.f("ck_runs_costs_non_negative"), "runs", type_="check")
    _replace_check("runs", "progress_consistent", _OLD_PROGRESS)
    _replace_check("runs", "status_known", f"status IN ({_OLD_RUN_STATUSES})")
    for column in ("reserved_cost", "spent_cost", "max_cost", "cancelled", "skipped"):
        op.drop_column("runs", column)

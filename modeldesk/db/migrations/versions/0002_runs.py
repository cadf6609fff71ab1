"""Runs: definitions, scenarios, runs, their target models, probes and transcripts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:17:46.201443
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("preamble", sa.Text(), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column(
            "dimensions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("expansion_status", sa.String(length=20), nullable=True),
        sa.Column("expansion_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "expansion_status IS NULL OR expansion_status IN ('QUEUED', 'SUCCEEDED', 'FAILED')",
            name=op.f("ck_definitions_expansion_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definitions")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("definition_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="PENDING", nullable=False),
        sa.Column("sample_percentage", sa.Numeric(), server_default=sa.text("100"), nullable=False),
        sa.Column("total", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("completed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED', 'FAILED')",
            name=op.f("ck_runs_status_known"),
        ),
        sa.CheckConstraint(
            "sample_percentage > 0 AND sample_percentage <= 100",
            name=op.f("ck_runs_sample_percentage_range"),
        ),
        sa.CheckConstraint(
            "total >= 0 AND completed >= 0 AND failed >= 0 AND completed + failed <= total",
            name=op.f("ck_runs_progress_consistent"),
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["definitions.id"],
            name=op.f("fk_runs_definition_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_definition_id"), "runs", ["definition_id"], unique=False)
    op.create_table(
        "scenarios",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("definition_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("is_current", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["definitions.id"],
            name=op.f("fk_scenarios_definition_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
    )
    op.create_index(
        op.f("ix_scenarios_definition_id"), "scenarios", ["definition_id"], unique=False
    )
    op.create_table(
        "probes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("scenario_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="PENDING", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rate_limit_retries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("transient_retries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')",
            name=op.f("ck_probes_state_known"),
        ),
        sa.CheckConstraint(
            "attempts >= 0 AND rate_limit_retries >= 0 AND transient_retries >= 0",
            name=op.f("ck_probes_counters_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["llm_models.id"], name=op.f("fk_probes_model_id"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_probes_run_id"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_probes_scenario_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_probes")),
        sa.UniqueConstraint(
            "run_id", "scenario_id", "model_id", name="uq_probes_run_scenario_model"
        ),
    )
    op.create_index(op.f("ix_probes_model_id"), "probes", ["model_id"], unique=False)
    op.create_index("ix_probes_run_id_state", "probes", ["run_id", "state"], unique=False)
    op.create_table(
        "run_models",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["llm_models.id"],
            name=op.f("fk_run_models_model_id"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_models_run_id"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("run_id", "model_id", name=op.f("pk_run_models")),
    )
    op.create_index(op.f("ix_run_models_model_id"), "run_models", ["model_id"], unique=False)
    op.create_table(
        "transcripts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("scenario_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("probe_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("output_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("cached_input_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reasoning_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("estimated_cost", sa.Numeric(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("unpriced", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('SUCCEEDED', 'FAILED')", name=op.f("ck_transcripts_status_known")
        ),
        sa.CheckConstraint("estimated_cost >= 0", name=op.f("ck_transcripts_cost_non_negative")),
        sa.CheckConstraint(
            "input_tokens >= 0 AND output_tokens >= 0 AND cached_input_tokens >= 0"
            " AND reasoning_tokens >= 0",
            name=op.f("ck_transcripts_tokens_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["llm_models.id"],
            name=op.f("fk_transcripts_model_id"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["probe_id"], ["probes.id"], name=op.f("fk_transcripts_probe_id"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_transcripts_run_id"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["scenarios.id"],
            name=op.f("fk_transcripts_scenario_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
        sa.UniqueConstraint("probe_id", name=op.f("uq_transcripts_probe_id")),
        sa.UniqueConstraint(
            "run_id", "scenario_id", "model_id", name="uq_transcripts_run_scenario_model"
        ),
    )
    op.create_index(op.f("ix_transcripts_model_id"), "transcripts", ["model_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_transcripts_model_id"), table_name="transcripts")
    op.drop_table("transcripts")
    op.drop_index(op.f("ix_run_models_model_id"), table_name="run_models")
    op.drop_table("run_models")
    op.drop_index("ix_probes_run_id_state", table_name="probes")
    op.drop_index(op.f("ix_probes_model_id"), table_name="probes")
    op.drop_table("probes")
    op.drop_index(op.f("ix_scenarios_definition_id"), table_name="scenarios")
    op.drop_table("scenarios")
    op.drop_index(op.f("ix_runs_definition_id"), table_name="runs")
    op.drop_table("runs")
    op.drop_table("definitions")

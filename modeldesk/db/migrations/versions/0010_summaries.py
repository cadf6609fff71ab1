"""The infrastructure models at work (SPEC 9.5): rubrics, judged summaries, analyses.

- definitions.rubric: how an answer is judged; runs.summarize: whether it is.
- transcript_summaries: one per successful transcript of a summarizing run,
  with the judge's score and sentence, its retries and its cost snapshot.
- run_analyses: a run's scores per model (computed) and the written report.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS_KNOWN = "status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')"


def _zero(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    op.add_column("definitions", sa.Column("rubric", sa.Text(), nullable=True))
    op.add_column(
        "runs",
        sa.Column("summarize", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "transcript_summaries",
        sa.Column("transcript_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("judge_model_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="PENDING", nullable=False),
        sa.Column("score", sa.Numeric(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        _zero("malformed_answers"),
        _zero("rate_limit_retries"),
        _zero("transient_retries"),
        _zero("internal_errors"),
        _zero("input_tokens"),
        _zero("output_tokens"),
        sa.Column("estimated_cost", sa.Numeric(), server_default=sa.text("0"), nullable=False),
        sa.Column("cost_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("unpriced", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("reserved_cost", sa.Numeric(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_STATUS_KNOWN, name=op.f("ck_transcript_summaries_status_known")),
        sa.CheckConstraint(
            "malformed_answers >= 0 AND rate_limit_retries >= 0 AND transient_retries >= 0"
            " AND internal_errors >= 0 AND input_tokens >= 0 AND output_tokens >= 0"
            " AND estimated_cost >= 0",
            name=op.f("ck_transcript_summaries_counters_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcripts.id"],
            name=op.f("fk_transcript_summaries_transcript_id_transcripts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_transcript_summaries_run_id_runs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["judge_model_id"],
            ["llm_models.id"],
            name=op.f("fk_transcript_summaries_judge_model_id_llm_models"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("transcript_id", name=op.f("pk_transcript_summaries")),
    )
    op.create_index(
        "ix_transcript_summaries_run_id_status", "transcript_summaries", ["run_id", "status"]
    )
    op.create_index(
        op.f("ix_transcript_summaries_judge_model_id"), "transcript_summaries", ["judge_model_id"]
    )
    op.create_table(
        "run_analyses",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="PENDING", nullable=False),
        sa.Column(
            "per_model",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
        ),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(_STATUS_KNOWN, name=op.f("ck_run_analyses_status_known")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_analyses_run_id_runs"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_analyses")),
    )


def downgrade() -> None:
    op.drop_table("run_analyses")
    op.drop_index(op.f("ix_transcript_summaries_judge_model_id"), "transcript_summaries")
    op.drop_index("ix_transcript_summaries_run_id_status", "transcript_summaries")
    op.drop_table("transcript_summaries")
    op.drop_column("runs", "summarize")
    op.drop_column("definitions", "rubric")

"""What the infrastructure models make of a run: a judged summary per transcript, an analysis.

A summary row exists for every successful transcript of a summarizing run,
created with its job, so "are the run's summaries done?" is one count. The
judge's cost is recorded on the row with its price snapshot, as a
transcript's is, and counted in the run's `spent_cost`, so a run's cap
covers it (SPEC 9.5).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from modeldesk.db.tables import Base, cost_column, count_column, one_of
from modeldesk.enums import InfraWorkStatus

_STATUS_KNOWN = one_of("status", InfraWorkStatus)


class TranscriptSummary(Base):
    """The judge's score and one-sentence summary of one successful transcript."""

    __tablename__ = "transcript_summaries"
    __table_args__ = (
        CheckConstraint(_STATUS_KNOWN, name="status_known"),
        CheckConstraint(
            "malformed_answers >= 0 AND rate_limit_retries >= 0 AND transient_retries >= 0"
            " AND internal_errors >= 0 AND input_tokens >= 0 AND output_tokens >= 0"
            " AND estimated_cost >= 0",
            name="counters_non_negative",
        ),
        Index("ix_transcript_summaries_run_id_status", "run_id", "status"),
    )

    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcripts.id", ondelete="RESTRICT"), primary_key=True
    )
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="RESTRICT"), nullable=False)
    # The judge, resolved (with its fallback) when the job was queued: the job
    # waits in that model's provider's queue, under its limits.
    judge_model_id: Mapped[int] = mapped_column(
        ForeignKey("llm_models.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=InfraWorkStatus.PENDING.value
    )
    score: Mapped[Decimal | None] = mapped_column(Numeric)
    summary: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    # Answers that did not parse: one is retried, the second fails the summary.
    malformed_answers: Mapped[int] = count_column()
    rate_limit_retries: Mapped[int] = count_column()
    transient_retries: Mapped[int] = count_column()
    internal_errors: Mapped[int] = count_column()
    input_tokens: Mapped[int] = count_column()
    output_tokens: Mapped[int] = count_column()
    estimated_cost: Mapped[Decimal] = cost_column()
    cost_snapshot: Mapped[Any | None] = mapped_column(JSONB)
    unpriced: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=sql("false"))
    # The expected cost held on the run for the call in flight (capped runs).
    reserved_cost: Mapped[Decimal | None] = mapped_column(Numeric)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RunAnalysis(Base):
    """Scores per model of a run (`per_model`, computed) and the analysis model's report."""

    __tablename__ = "run_analyses"
    __table_args__ = (CheckConstraint(_STATUS_KNOWN, name="status_known"),)

    run_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("runs.id", ondelete="RESTRICT"), primary_key=True
    )
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=InfraWorkStatus.PENDING.value
    )
    # [{"model_id", "scored_count", "mean_score", "ci_low", "ci_high"}], in the run's model order.
    per_model: Mapped[Any] = mapped_column(JSONB, nullable=False, server_default="[]")
    report: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )

"""Running totals of transcripts and summaries (SPEC 9.7), kept by triggers as they are written.

- run_model_totals: per (run, model), the outcomes recorded, their tokens and cost.
  A run's page, its cost breakdown, the run list and the cost gauge read these
  rows, so they cost the same with 1k or 1M transcripts in the database.
- model_usage_totals: per model, across runs, the successful transcripts and
  their token sums: the estimate's per-model averages.

Statement-level triggers on `transcripts` (migration 0011) add each inserted
row and subtract each deleted one, aggregated per statement, so every writer
(the probe step, a retry deleting failed transcripts, a bulk fill) keeps them
exact without knowing about them, and in the same transaction. A row trigger
on `transcript_summaries` (migration 0012) does the same for the judge's
summaries and their cost.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from modeldesk.db.tables import Base, cost_column, count_column


class RunModelTotals(Base):
    __tablename__ = "run_model_totals"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("llm_models.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    succeeded: Mapped[int] = count_column(BigInteger)
    failed: Mapped[int] = count_column(BigInteger)
    skipped: Mapped[int] = count_column(BigInteger)
    input_tokens: Mapped[int] = count_column(BigInteger)
    output_tokens: Mapped[int] = count_column(BigInteger)
    cost: Mapped[Decimal] = cost_column()
    # Transcripts charged at fallback prices (none recorded); > 0 marks the cost unpriced.
    unpriced: Mapped[int] = count_column()
    # The judge's summaries of this model's answers, and what its calls cost
    # (kept by a row trigger on transcript_summaries, migration 0012).
    summaries_completed: Mapped[int] = count_column(BigInteger)
    summaries_failed: Mapped[int] = count_column(BigInteger)
    judge_cost: Mapped[Decimal] = cost_column()


class ModelUsageTotals(Base):
    __tablename__ = "model_usage_totals"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("llm_models.id", ondelete="RESTRICT"), primary_key=True
    )
    succeeded: Mapped[int] = count_column(BigInteger)
    input_tokens: Mapped[int] = count_column(BigInteger)
    output_tokens: Mapped[int] = count_column(BigInteger)
    cached_input_tokens: Mapped[int] = count_column(BigInteger)
    cache_write_tokens: Mapped[int] = count_column(BigInteger)

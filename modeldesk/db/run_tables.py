"""Run tables: definitions, scenarios, runs, their target models, probes and transcripts.

The guarantees the probe queue relies on are constraints here, not only code:
one probe and at most one transcript per (run, scenario, model) — so a job
re-delivered after a worker died can never write twice — known states only,
non-negative counters and costs, and RESTRICT foreign keys so nothing a run
refers to (a deprecated model included) can be deleted under it.
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
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from modeldesk.db.tables import Base, cost_column, count_column, one_of
from modeldesk.enums import ExpansionStatus, ProbeState, RunStatus, TranscriptStatus


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _restrict(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="RESTRICT")


class Definition(Base):
    """A prompt template with dimensions; `dimensions` is `[{"name", "levels": [...]}]`."""

    __tablename__ = "definitions"
    # Server defaults come back with INSERT/UPDATE ... RETURNING, so a row handed to
    # a caller after commit is complete without another query.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        CheckConstraint(
            "expansion_status IS NULL OR " + one_of("expansion_status", ExpansionStatus),
            name="expansion_status_known",
        ),
        CheckConstraint(
            "expansion_rate_limit_retries >= 0 AND expansion_transient_retries >= 0"
            " AND expansion_internal_errors >= 0",
            name="expansion_counters_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    preamble: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(Text, nullable=False)
    dimensions: Mapped[Any] = mapped_column(JSONB, nullable=False, server_default="[]")
    # How the summarization model judges an answer (SPEC 9.5); None: no judging by default.
    rubric: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    # The latest LLM expansion: its state and, when it failed, why (old scenarios are kept).
    expansion_status: Mapped[str | None] = mapped_column(String(20))
    expansion_error: Mapped[str | None] = mapped_column(Text)
    # The pending expansion's retries, as on a probe: the job keeps its payload
    # when re-queued, so its place in the backoff schedule lives here.
    expansion_rate_limit_retries: Mapped[int] = count_column()
    expansion_transient_retries: Mapped[int] = count_column()
    expansion_internal_errors: Mapped[int] = count_column()
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class Scenario(Base):
    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        _restrict("definitions.id"), nullable=False, index=True
    )
    # Order within the definition; sampling and display follow it.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    # "explicit", "combinatorial" or "llm": how the scenario came to be.
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    # False once replaced by a newer expansion; kept because runs may refer to it.
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=sql("true"))
    created_at: Mapped[datetime] = _now()


class Run(Base):
    __tablename__ = "runs"
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        CheckConstraint(one_of("status", RunStatus), name="status_known"),
        CheckConstraint(
            "sample_percentage > 0 AND sample_percentage <= 100", name="sample_percentage_range"
        ),
        CheckConstraint(
            "total >= 0 AND completed >= 0 AND failed >= 0 AND skipped >= 0 AND cancelled >= 0"
            " AND completed + failed + skipped + cancelled <= total",
            name="progress_consistent",
        ),
        CheckConstraint(
            "(max_cost IS NULL OR max_cost >= 0) AND spent_cost >= 0 AND reserved_cost >= 0",
            name="costs_non_negative",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    definition_id: Mapped[int] = mapped_column(
        _restrict("definitions.id"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=RunStatus.PENDING.value
    )
    sample_percentage: Mapped[Decimal] = mapped_column(
        Numeric, nullable=False, server_default=sql("100")
    )
    total: Mapped[int] = count_column()
    completed: Mapped[int] = count_column()
    failed: Mapped[int] = count_column()
    # Probes never called: SKIPPED once the budget cap was reached, or CANCELLED.
    # With completed and failed they reach total when the last probe is done.
    skipped: Mapped[int] = count_column()
    cancelled: Mapped[int] = count_column()
    # The budget cap in USD (None: no cap), the cost recorded so far (the sum of
    # the transcripts' costs) and the expected cost of the calls in flight; the
    # probe step keeps spent + reserved within max_cost (see runs.budget).
    max_cost: Mapped[Decimal | None] = mapped_column(Numeric)
    spent_cost: Mapped[Decimal] = cost_column()
    reserved_cost: Mapped[Decimal] = cost_column()
    # Each successful probe is judged by the summarization model (SPEC 9.5).
    summarize: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=sql("false"))
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(String(200))


class RunModel(Base):
    """One of a run's target models; RESTRICT keeps a deprecated model while runs name it."""

    __tablename__ = "run_models"

    run_id: Mapped[int] = mapped_column(_restrict("runs.id"), primary_key=True)
    model_id: Mapped[int] = mapped_column(_restrict("llm_models.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # Average tokens of the model's earlier successful transcripts when the run
    # was created (None: none yet); what a capped run reserves per call.
    expected_input_tokens: Mapped[int | None] = mapped_column(Integer)
    expected_output_tokens: Mapped[int | None] = mapped_column(Integer)


class Probe(Base):
    """One (run, scenario, model) call, queued; the queue job carries only its id."""

    __tablename__ = "probes"
    __table_args__ = (
        UniqueConstraint("run_id", "scenario_id", "model_id", name="uq_probes_run_scenario_model"),
        CheckConstraint(one_of("state", ProbeState), name="state_known"),
        CheckConstraint(
            "attempts >= 0 AND rate_limit_retries >= 0 AND transient_retries >= 0",
            name="counters_non_negative",
        ),
        CheckConstraint("internal_errors >= 0", name="internal_errors_non_negative"),
        CheckConstraint("reserved_cost >= 0", name="reserved_cost_non_negative"),
        Index("ix_probes_run_id_state", "run_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int] = mapped_column(_restrict("runs.id"), nullable=False)
    scenario_id: Mapped[int] = mapped_column(_restrict("scenarios.id"), nullable=False)
    model_id: Mapped[int] = mapped_column(_restrict("llm_models.id"), nullable=False, index=True)
    state: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=ProbeState.PENDING.value
    )
    attempts: Mapped[int] = count_column()
    rate_limit_retries: Mapped[int] = count_column()
    transient_retries: Mapped[int] = count_column()
    # Unexpected errors of the probe's step (bugs, not provider failures); bounded
    # by the probe step, which then records the probe as failed.
    internal_errors: Mapped[int] = count_column()
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    retryable: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the current (or last) call started; each failed attempt records it.
    call_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The expected cost held for the call in flight, in a capped run (see runs.budget).
    reserved_cost: Mapped[Decimal | None] = mapped_column(Numeric)


class ProbeAttempt(Base):
    """One failed call of a probe; kept when the probe is retried, so no failure is lost."""

    __tablename__ = "probe_attempts"
    __table_args__ = (Index("ix_probe_attempts_probe_id_id", "probe_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    probe_id: Mapped[int] = mapped_column(_restrict("probes.id"), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error_code: Mapped[str] = mapped_column(String(40), nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class Transcript(Base):
    """The recorded result of one probe: exactly one per (run, scenario, model)."""

    __tablename__ = "transcripts"
    __table_args__ = (
        UniqueConstraint(
            "run_id", "scenario_id", "model_id", name="uq_transcripts_run_scenario_model"
        ),
        CheckConstraint(one_of("status", TranscriptStatus), name="status_known"),
        CheckConstraint(
            "input_tokens >= 0 AND output_tokens >= 0 AND cached_input_tokens >= 0"
            " AND reasoning_tokens >= 0",
            name="tokens_non_negative",
        ),
        CheckConstraint("estimated_cost >= 0", name="cost_non_negative"),
        CheckConstraint("cache_write_tokens >= 0", name="cache_write_tokens_non_negative"),
        # A run's transcripts in order: the pages of `Run.transcripts` (SPEC 9.7).
        Index("ix_transcripts_run_id_id", "run_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The unique key below leads with run_id, so it also serves per-run reads.
    run_id: Mapped[int] = mapped_column(_restrict("runs.id"), nullable=False)
    scenario_id: Mapped[int] = mapped_column(_restrict("scenarios.id"), nullable=False)
    model_id: Mapped[int] = mapped_column(_restrict("llm_models.id"), nullable=False, index=True)
    probe_id: Mapped[int] = mapped_column(_restrict("probes.id"), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(40))
    response: Mapped[str | None] = mapped_column(Text)
    # Cache reads (cached) and cache writes are parts of input_tokens, reasoning
    # tokens part of output_tokens.
    input_tokens: Mapped[int] = count_column()
    output_tokens: Mapped[int] = count_column()
    cached_input_tokens: Mapped[int] = count_column()
    cache_write_tokens: Mapped[int] = count_column()
    reasoning_tokens: Mapped[int] = count_column()
    estimated_cost: Mapped[Decimal] = cost_column()
    # The exact prices used, so the cost can be explained long after prices change.
    cost_snapshot: Mapped[Any | None] = mapped_column(JSONB)
    unpriced: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=sql("false"))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()

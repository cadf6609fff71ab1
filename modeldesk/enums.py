"""Small vocabularies shared by every layer (database columns, adapters, API enums)."""

from __future__ import annotations

from enum import StrEnum


class ApiStyle(StrEnum):
    """The wire protocol a provider speaks; xAI, DeepSeek and Mistral speak OPENAI."""

    OPENAI = "OPENAI"
    ANTHROPIC = "ANTHROPIC"
    GEMINI = "GEMINI"


class ModelStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DEPRECATED = "DEPRECATED"


class Role(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class RunStatus(StrEnum):
    """A run's lifecycle; PAUSED and the final BUDGET_EXCEEDED are run control's (SPEC 9.2)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"


class ProbeState(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    # Never called: the run's budget cap was reached first.
    SKIPPED = "SKIPPED"


# The groups every layer (services, SQL, pages) asks about; one definition each.
# A run whose calls may start now.
ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)
# A run that waits: PAUSED (to be resumed) or BUDGET_EXCEEDED (its pending probes to be skipped).
WAITING_RUN_STATUSES = (RunStatus.PAUSED, RunStatus.BUDGET_EXCEEDED)
# A run an operator may still pause, resume or cancel, and whose counters may still move.
UNFINISHED_RUN_STATUSES = (*ACTIVE_RUN_STATUSES, RunStatus.PAUSED)
FINISHED_RUN_STATUSES = (
    RunStatus.COMPLETED,
    RunStatus.CANCELLED,
    RunStatus.FAILED,
    RunStatus.BUDGET_EXCEEDED,
)
FINISHED_PROBE_STATES = (
    ProbeState.SUCCEEDED,
    ProbeState.FAILED,
    ProbeState.CANCELLED,
    ProbeState.SKIPPED,
)


class TranscriptStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class ExpansionStatus(StrEnum):
    """A definition's LLM scenario expansion, once one has been asked for."""

    QUEUED = "QUEUED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class InfraWorkStatus(StrEnum):
    """A transcript's summary or a run's analysis, done by an infrastructure model (SPEC 9.5)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


# A summary or analysis still to be done (or being done).
UNFINISHED_INFRA_WORK_STATUSES = (InfraWorkStatus.PENDING, InfraWorkStatus.RUNNING)

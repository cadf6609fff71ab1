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


class TranscriptStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class InfraWorkStatus(StrEnum):
    """A transcript's summary or a run's analysis, done by an infrastructure model (SPEC 9.5)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

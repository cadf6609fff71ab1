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

"""Typed domain errors.

Every error a user can see carries one machine-readable code from SPEC section 4,
so the API, the UI and the workers report failures the same way and never leak a
raw database or HTTP exception.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    UNSUPPORTED_PROVIDER = "UNSUPPORTED_PROVIDER"
    MODEL_DEPRECATED = "MODEL_DEPRECATED"
    PROVIDER_DISABLED = "PROVIDER_DISABLED"
    RATE_LIMITED = "RATE_LIMITED"
    AUTH_FAILED = "AUTH_FAILED"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    TIMEOUT = "TIMEOUT"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    # The database cannot be reached: retryable, HTTP 503. Not PROVIDER_ERROR,
    # which is a failed LLM call.
    UNAVAILABLE = "UNAVAILABLE"
    # A probe not called because its run's budget cap was reached (SPEC 9.2).
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"


class ModeldeskError(Exception):
    """Base of every error meant to reach a user.

    `code` is stable for scripts; `message` is for people; `details` carries
    structured extras (the offending field, the list of bad models, ...).
    """

    code: ErrorCode = ErrorCode.PROVIDER_ERROR
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFoundError(ModeldeskError):
    code = ErrorCode.NOT_FOUND


class ConflictError(ModeldeskError):
    code = ErrorCode.CONFLICT


class ValidationError(ModeldeskError):
    """Refused input; `field` names the input field at fault when there is one."""

    code = ErrorCode.VALIDATION_ERROR

    def __init__(self, message: str, *, field: str | None = None, **kwargs: Any) -> None:
        details = dict(kwargs.pop("details", None) or {})
        if field is not None:
            details["field"] = field
        super().__init__(message, details=details, **kwargs)
        self.field = field


class UnauthenticatedError(ModeldeskError):
    code = ErrorCode.UNAUTHENTICATED


class ForbiddenError(ModeldeskError):
    code = ErrorCode.FORBIDDEN


class ModelNotFoundError(ModeldeskError):
    code = ErrorCode.MODEL_NOT_FOUND


class ModelDeprecatedError(ModeldeskError):
    code = ErrorCode.MODEL_DEPRECATED


class ProviderDisabledError(ModeldeskError):
    code = ErrorCode.PROVIDER_DISABLED


class UnsupportedProviderError(ModeldeskError):
    code = ErrorCode.UNSUPPORTED_PROVIDER


class DatabaseUnavailableError(ModeldeskError):
    """The database could not be reached; work must be retried, never faked."""

    code = ErrorCode.UNAVAILABLE
    retryable = True

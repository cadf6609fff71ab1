"""The one exception an adapter raises.

It is a `ModeldeskError`, so its code and retryable flag travel unchanged to
the job record and the API; the extra fields are what the backoff policy needs.
"""

from __future__ import annotations

from typing import Any

from modeldesk.errors import ErrorCode, ModeldeskError


class ProviderCallError(ModeldeskError):
    """A provider call that did not produce a completion.

    The message is built from already-redacted text only, and no HTTP object is
    kept (nor chained), because those carry headers with the key in them.
    """

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, retryable=retryable, details=details)
        self.status_code = status_code
        self.retry_after = retry_after

    @property
    def is_rate_limit(self) -> bool:
        return self.code is ErrorCode.RATE_LIMITED

    def __repr__(self) -> str:
        return (
            f"ProviderCallError(code={self.code.value}, retryable={self.retryable}, "
            f"status_code={self.status_code}, retry_after={self.retry_after}, "
            f"message={self.message!r})"
        )

"""Turn an HTTP outcome into a completion body or a classified `ProviderCallError`.

The success path (2xx, a JSON object without an `error` member) costs one
status comparison and one dict lookup on top of decoding the JSON, which has
to happen anyway; `bench/rate_limit_detection.py` measures it. The body scan for
rate-limit wording only runs on error-shaped responses, so a model that writes
"rate limit" in its answer is never mistaken for one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from modeldesk.errors import ErrorCode
from modeldesk.llm.errors import ProviderCallError
from modeldesk.llm.redact import excerpt, redact

RATE_LIMIT_MARKERS = ("rate limit", "too many requests", "quota exceeded")


def mentions_rate_limit(text: str) -> bool:
    """Whether an error body speaks of a rate limit, in any case.

    Underscores and hyphens count as spaces so that machine-readable types such
    as `rate_limit_error` or `RATE_LIMIT_EXCEEDED` are caught too.
    """
    folded = text.lower().replace("_", " ").replace("-", " ")
    return any(marker in folded for marker in RATE_LIMIT_MARKERS)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date).

    Unparseable values give None rather than an error: a bad header must not
    turn a retryable rate limit into a crash. A date in the past gives 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _status_code(status: int) -> tuple[ErrorCode, bool]:
    if status in (401, 403):
        return ErrorCode.AUTH_FAILED, False
    if status == 404:
        return ErrorCode.MODEL_NOT_FOUND, False
    if status in (400, 413, 422):
        return ErrorCode.VALIDATION_ERROR, False
    if status == 408:
        return ErrorCode.TIMEOUT, True
    if status >= 500:
        return ErrorCode.PROVIDER_ERROR, True
    return ErrorCode.PROVIDER_ERROR, False


def _provider_message(text: str) -> str:
    """The human part of an error body when it has the usual JSON shapes."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, list) and data:
        data = data[0]  # Gemini sometimes wraps the error in a list.
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, str):
            return error
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return text


def _build(
    *,
    status: int | None,
    body_text: str,
    headers: Mapping[str, str],
    secrets: Iterable[str | None],
    context: str,
) -> ProviderCallError:
    secrets = tuple(secrets)
    message = excerpt(_provider_message(body_text), secrets) or "(empty body)"
    retry_after = parse_retry_after(headers.get("retry-after"))
    label = f"HTTP {status}" if status is not None else "error payload"
    if status == 429 or mentions_rate_limit(body_text):
        code, retryable = ErrorCode.RATE_LIMITED, True
    elif status is None:
        code, retryable = ErrorCode.PROVIDER_ERROR, True
    else:
        code, retryable = _status_code(status)
    return ProviderCallError(
        f"{context}: {label}: {message}",
        code=code,
        retryable=retryable,
        status_code=status,
        retry_after=retry_after,
    )


def error_for_status(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str | None] = (),
    context: str = "provider",
) -> ProviderCallError:
    """Classify a non-2xx response."""
    body_text = body.decode("utf-8", errors="replace")
    return _build(
        status=status, body_text=body_text, headers=headers, secrets=secrets, context=context
    )


def error_in_payload(
    data: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str | None] = (),
    context: str = "provider",
) -> ProviderCallError | None:
    """Classify a 2xx body that carries an `error` member, as some proxies send.

    An HTTP-like numeric `code` inside the error is trusted as the status.
    """
    error = data.get("error")
    if not error:
        return None
    status = error.get("code") if isinstance(error, dict) else None
    if not (isinstance(status, int) and 400 <= status < 600):
        status = None
    body_text = json.dumps({"error": error}, ensure_ascii=False, default=str)
    return _build(
        status=status, body_text=body_text, headers=headers, secrets=secrets, context=context
    )


def malformed(
    reason: str, *, secrets: Iterable[str | None] = (), context: str = "provider"
) -> ProviderCallError:
    """A 2xx response we cannot read: retried, since it is usually a glitch."""
    return ProviderCallError(
        f"{context}: malformed response: {excerpt(reason, secrets)}",
        code=ErrorCode.PROVIDER_ERROR,
        retryable=True,
    )


def check_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secrets: Iterable[str | None] = (),
    context: str = "provider",
) -> dict[str, Any]:
    """The decoded JSON object of a successful response, or raise the classified error."""
    if not 200 <= status < 300:
        raise error_for_status(status, headers, body, secrets=secrets, context=context)
    try:
        data = json.loads(body)
    except ValueError:
        raise malformed(
            f"body is not JSON: {body[:200].decode('utf-8', errors='replace')}",
            secrets=secrets,
            context=context,
        ) from None
    if not isinstance(data, dict):
        raise malformed(f"expected a JSON object, got {type(data).__name__}", context=context)
    if "error" in data:
        error = error_in_payload(data, headers, secrets=secrets, context=context)
        if error is not None:
            raise error
    return data


def error_for_transport(
    exc: Exception, *, secrets: Iterable[str | None] = (), context: str = "provider"
) -> ProviderCallError:
    """Classify an exception raised by httpx before any response arrived."""
    detail = redact(f"{type(exc).__name__}: {exc}", secrets)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ProviderCallError(
            f"{context}: bad base URL: {detail}",
            code=ErrorCode.VALIDATION_ERROR,
            retryable=False,
        )
    if isinstance(exc, httpx.TimeoutException):
        return ProviderCallError(
            f"{context}: timed out: {detail}", code=ErrorCode.TIMEOUT, retryable=True
        )
    if isinstance(exc, httpx.TransportError):
        return ProviderCallError(
            f"{context}: connection failed: {detail}", code=ErrorCode.TIMEOUT, retryable=True
        )
    return ProviderCallError(
        f"{context}: HTTP error: {detail}", code=ErrorCode.PROVIDER_ERROR, retryable=True
    )

"""Log lines as text or JSON: the job context they carry, and keys kept out of both."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from modeldesk.log_format import (
    TEXT_FORMAT,
    JsonFormatter,
    RedactingFormatter,
    bind_log_context,
    current_log_context,
    log_context,
)

KEY = "opaque-key-value-31337"


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(
        "modeldesk.test", logging.WARNING, __file__, 1, message, args, exc_info
    )


def test_json_lines_carry_the_context_and_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", KEY)
    try:
        raise RuntimeError(f"the provider said: bad key {KEY}")
    except RuntimeError as error:
        failure = error
    with log_context(job_id=7, probe_id=3, provider="openai", run_id=None):
        line = JsonFormatter().format(_record("call with %s failed", KEY, exc=failure))

    entry = json.loads(line)
    assert "\n" not in line and KEY not in line
    assert entry["level"] == "WARNING" and entry["logger"] == "modeldesk.test"
    assert entry["message"] == "call with [REDACTED] failed"
    assert (entry["job_id"], entry["probe_id"], entry["provider"]) == (7, 3, "openai")
    assert "run_id" not in entry  # None is left out
    assert "RuntimeError: the provider said: bad key [REDACTED]" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_text_lines_are_redacted_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANOTHER_TOKEN", KEY)
    line = RedactingFormatter(TEXT_FORMAT).format(_record("token %s and sk-%s", KEY, "a" * 20))

    assert line.endswith("WARNING modeldesk.test: token [REDACTED] and [REDACTED]")


async def test_contexts_nest_and_end_with_their_block() -> None:
    async def step() -> dict[str, object]:
        bind_log_context(run_id=5)  # for the rest of this task only
        return dict(current_log_context())

    with log_context(job_id=1):
        with log_context(probe_id=2):
            assert dict(current_log_context()) == {"job_id": 1, "probe_id": 2}
        assert await asyncio.create_task(step()) == {"job_id": 1, "run_id": 5}
        assert dict(current_log_context()) == {"job_id": 1}
    assert dict(current_log_context()) == {}
    with pytest.raises(ValueError, match="unknown log context fields"):
        bind_log_context(definition_id=1)

"""How every `modeldesk` process logs: text for people, or one JSON object per line.

`MODELDESK_LOG_FORMAT=json` is for log shippers: each line is an object with
`time`, `level`, `logger` and `message`, plus `run_id`, `probe_id`, `provider`
and `job_id` when the line was logged on behalf of one (the worker binds them
with `log_context` around each job, and the probe step adds its run). They
travel in context variables, so the code that logs needs no extra arguments
and a task's bindings never leak into another task.

No log line ever holds a provider key, a modeldesk token, a sign-in code or a
session id. Adapters already redact what they raise, but a secret can still
reach a log line by another road (an exception's text, a third-party library's
message, a URL in uvicorn's access log), so `RedactSecretsFilter`, which
`configure_logging` puts on every handler of the root logger, redacts each
record once more: the value of every key-like environment variable and of each
configured key variable, and anything shaped like a key or a credential, also
when percent-encoded (see `llm.redact`, the one place of those rules). The two
formatters apply it too, so a handler set up elsewhere with them is covered.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

from modeldesk.config import Settings
from modeldesk.llm.key_routing import current_routing
from modeldesk.llm.redact import redact

CONTEXT_FIELDS = ("run_id", "probe_id", "provider", "job_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Environment variables whose values are secrets: provider keys (`OPENAI_API_KEY`, or
# whatever `apiKeyEnv` a provider added at run time names) and their kin.
_SECRET_NAME_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")
# Their step-by-step INFO chatter (pg_ctl output, each migration context) buries ours.
# httpx logs every provider call at INFO; the worker logs each probe's outcome itself.
_NOISY_LOGGERS = ("pgserver", "alembic", "httpx")

# Never mutated: each binding sets a new mapping, so an immutable empty default is safe.
_EMPTY: Mapping[str, object] = MappingProxyType({})
_context: ContextVar[Mapping[str, object]] = ContextVar("modeldesk_log_context", default=_EMPTY)


def current_log_context() -> Mapping[str, object]:
    return _context.get()


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Attach `fields` (those of CONTEXT_FIELDS that are not None) to lines logged inside."""
    token = _context.set(_merged(fields))
    try:
        yield
    finally:
        _context.reset(token)


def bind_log_context(**fields: object) -> None:
    """Attach `fields` to the rest of the current task's lines.

    For code that learns an id halfway (the probe step learns its run at the
    claim) and runs in a task of its own, whose context ends with it.
    """
    _context.set(_merged(fields))


def _merged(fields: Mapping[str, object]) -> Mapping[str, object]:
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields: {sorted(unknown)}")
    return {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values to keep out of every log line, read now (a key may be set at run time):
    those of key-like variables, and of the key variables MODELDESK_PROVIDER_KEY_VARS adds."""
    source = os.environ if environ is None else environ
    extra = current_routing(environ).extra_key_variables
    return [
        value
        for name, value in source.items()
        if name.upper().endswith(_SECRET_NAME_SUFFIXES) or name in extra
    ]


# Formats a record's traceback before redaction; plain, as every format prints it alike.
_TRACEBACKS = logging.Formatter()


def redact_record(record: logging.LogRecord) -> None:
    """Redact a record in place: its message (arguments merged in), traceback and stack."""
    secrets = secret_values()
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = str(record.msg)  # arguments that do not fit; logging reports that itself
    record.msg, record.args = redact(message, secrets), None
    if record.exc_info and not record.exc_text:
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)


class RedactSecretsFilter(logging.Filter):
    """Redacts every record a handler emits (see the module docstring); drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class RedactingFormatter(logging.Formatter):
    """The text format, with secrets redacted from the whole line (traceback included)."""

    def format(self, record: logging.LogRecord) -> str:
        redact_record(record)
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        redact_record(record)
        secrets = secret_values()
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in current_log_context().items():
            entry[name] = redact(value, secrets) if isinstance(value, str) else value
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str)


def configure_logging(settings: Settings) -> None:
    """Log to stderr at `settings.log_level` in `settings.log_format`, secrets redacted.

    Like `logging.basicConfig`, it leaves a root logger that already has
    handlers alone (a test runner's, for instance), except that each of them
    gets the redacting filter.
    """
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    for root_handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecretsFilter) for f in root_handler.filters):
            root_handler.addFilter(RedactSecretsFilter())
    for noisy in _NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)

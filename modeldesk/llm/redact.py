"""Keep API keys out of every string that can leave an adapter.

Provider error bodies sometimes echo the key that was sent (or a key of another
provider pasted in the wrong place), so anything that goes into an error
message or a log line passes through `redact` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

# Key shapes of the seed providers, so that a key we were not told about (a
# provider echoing a different one, for instance) is still hidden. Mistral keys
# have no recognisable shape; they are caught by the exact match only.
_KEY_PATTERNS = re.compile(
    r"(?:sk-[A-Za-z0-9_\-]{16,}|xai-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,})"
)

# Shorter secrets would redact ordinary words; real keys are far longer.
_MIN_SECRET_LENGTH = 6


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with each given secret and anything shaped like a key replaced."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    return _KEY_PATTERNS.sub(REDACTED, text)


def excerpt(text: str, secrets: Iterable[str | None] = (), limit: int = 300) -> str:
    """A redacted, single-line, bounded piece of a provider body for a message.

    Redaction happens before truncation so that a key cut in half by the limit
    cannot survive as a recognisable prefix.
    """
    flat = " ".join(redact(text, secrets).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

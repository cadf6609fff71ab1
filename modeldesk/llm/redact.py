"""Keep secrets out of every string that can leave the process: the one redaction rule.

Provider error bodies sometimes echo the key that was sent (or a key of another
provider pasted in the wrong place), and a URL in an access log can carry a
modeldesk token or sign-in code, so anything that goes into an error message
or a log line passes through `redact` first (log lines through the filter of
`log_format`).

Secrets are found by their value, never by the name of the parameter that
carries them: `/login?tok%65n=…` names no `token` parameter, yet the token is
there. So `redact` hides each given secret (the values of the key variables)
and anything shaped like a key or a modeldesk credential, in the text as it is
and in its percent-decoded form, however many times it was encoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import unquote

REDACTED = "[REDACTED]"

# Key shapes of the seed providers, so that a key we were not told about (a
# provider echoing a different one, for instance) is still hidden. Mistral keys
# have no recognisable shape; they are caught by the exact match only. Then
# modeldesk's own: API tokens (mdk_), one-time sign-in codes (mdc_) and UI
# session ids (mds_), each a prefix and a long url-safe random tail.
_KEY_PATTERNS = re.compile(
    r"(?:sk-[A-Za-z0-9_\-]{16,}|xai-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{30,}"
    r"|md[kcs]_[A-Za-z0-9_\-]{16,})"
)

# Shorter secrets would redact ordinary words; real keys are far longer.
_MIN_SECRET_LENGTH = 6
# "%2574oken" is "%74oken" once decoded and "token" twice; nobody encodes thrice by accident.
_MAX_DECODINGS = 3


def _redact_plain(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return _KEY_PATTERNS.sub(REDACTED, text)


def _decoded(text: str) -> str:
    for _ in range(_MAX_DECODINGS):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with each given secret and anything shaped like a key replaced.

    When only the percent-decoded text reveals a secret, the decoded text is
    returned, redacted: a log line then reads decoded, which is the price of
    not letting an encoded token through.
    """
    usable = [secret for secret in secrets if secret and len(secret) >= _MIN_SECRET_LENGTH]
    cleaned = _redact_plain(text, usable)
    if "%" not in cleaned:
        return cleaned
    decoded = _decoded(cleaned)
    redacted = _redact_plain(decoded, usable)
    return cleaned if redacted == decoded else redacted


def excerpt(text: str, secrets: Iterable[str | None] = (), limit: int = 300) -> str:
    """A redacted, single-line, bounded piece of a provider body for a message.

    Redaction happens before truncation so that a key cut in half by the limit
    cannot survive as a recognisable prefix.
    """
    flat = " ".join(redact(text, secrets).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

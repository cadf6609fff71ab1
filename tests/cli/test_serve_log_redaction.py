"""No token, code or key in any line a real `modeldesk serve` logs, however the URL is encoded.

Release 1 redacted `token=` by the parameter's name, so `/login?tok%65n=<token>`
reached the access log whole. Secrets are now found by their value.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from modeldesk.auth import create_token
from modeldesk.auth.sessions import create_sign_in_code
from modeldesk.db.session import Database
from modeldesk.testing.live_server import free_port
from modeldesk.testing.serve_process import wait_until_healthy

OPENAI_KEY = "sk-proj-redaction-test-0123456789abcdef"
# A key of no recognisable shape, in a variable the operator listed as a key variable.
LOCAL_KEY = "opaque-local-secret-4711-0815"


def _percent_encoded(text: str) -> str:
    """Every character as %XX, as an attacker might send it."""
    return "".join(f"%{byte:02X}" for byte in text.encode())


@pytest.fixture
async def credentials(db: Database) -> tuple[str, str, str]:
    """An admin token (so serve prints no sign-in link), a viewer token and a sign-in code."""
    _, token = await create_token(db, role="admin", name="ops")
    row, viewer = await create_token(db, role="viewer", name="script")
    return token, viewer, await create_sign_in_code(db, row.id)


def test_serve_logs_no_token_code_or_key(
    credentials: tuple[str, str, str], database_url: str, tmp_path: Path
) -> None:
    token, viewer, code = credentials
    env = {
        **os.environ,
        "MODELDESK_DATABASE_URL": database_url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "MODELDESK_PROVIDER_KEY_VARS": "LOCAL_LLM_SECRET",
        "LOCAL_LLM_SECRET": LOCAL_KEY,
    }
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "modeldesk.cli", "serve", "--no-worker", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, url, log)
        paths = [
            f"/login?tok%65n={token}",
            f"/login?token={_percent_encoded(viewer)}",
            f"/login?next=/&%63ode={quote(code)}",
            f"/healthz?k={_percent_encoded(OPENAI_KEY)}",
            f"/healthz?k={LOCAL_KEY}",
            f"/healthz?k=%25{_percent_encoded(LOCAL_KEY)[1:]}",  # encoded twice
        ]
        with httpx.Client(base_url=url, timeout=10) as client:
            for path in paths:
                client.get(path)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    output_text = log.read_text(errors="replace")
    assert output_text.count("GET /login?") >= 3, output_text  # the lines are there...
    for secret in (token, viewer, code, OPENAI_KEY, LOCAL_KEY):
        assert secret not in output_text  # ...without a secret in any form
        assert _percent_encoded(secret) not in output_text
        assert _percent_encoded(secret)[3:] not in output_text
    assert output_text.count("[REDACTED]") >= len(paths)


@pytest.fixture(autouse=True)
def _no_key_in_the_test_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys above live in serve's environment only."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

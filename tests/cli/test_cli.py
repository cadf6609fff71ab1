"""The `modeldesk` command as users and scripts call it: real processes, real databases."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modeldesk.auth import authenticate_token
from modeldesk.db.seed import count_catalog
from modeldesk.db.session import Database
from modeldesk.enums import Role
from modeldesk.testing.live_server import free_port

SIGN_IN = re.compile(r"http://127\.0\.0\.1:(\d+)/login\?code=(\S+)")


def _modeldesk(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modeldesk.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MODELDESK_DATABASE_URL"] = database_url
    return env


async def test_db_commands_are_idempotent(db: Database, cli_env: dict[str, str]) -> None:
    for _ in range(2):
        assert _modeldesk("db", "upgrade", env=cli_env).returncode == 0
    first = _modeldesk("db", "seed", env=cli_env)
    second = _modeldesk("db", "seed", env=cli_env)
    assert first.returncode == second.returncode == 0
    assert "seed added 17 rows" in first.stdout
    assert "seed added 0 rows" in second.stdout
    assert await count_catalog(db) == (6, 10)


async def test_token_create_prints_the_token_alone_on_its_last_line(
    db: Database, cli_env: dict[str, str]
) -> None:
    result = _modeldesk("token", "create", "--role", "admin", "--name", "ci", env=cli_env)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    principal = await authenticate_token(db, token)
    assert principal.role is Role.ADMIN and principal.name == "ci"

    viewer = _modeldesk("token", "create", "--role", "viewer", env=cli_env)
    assert viewer.returncode == 0, viewer.stderr
    listed = _modeldesk("token", "list", env=cli_env)
    assert "admin\tactive" in listed.stdout and token not in listed.stdout
    viewer_line = next(line for line in listed.stdout.splitlines() if "\tviewer\t" in line)
    revoked = _modeldesk("token", "revoke", viewer_line.split("\t")[0].lstrip("#"), env=cli_env)
    assert revoked.returncode == 0, revoked.stderr
    missing = _modeldesk("token", "revoke", "999", env=cli_env)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr


async def test_token_commands_keep_the_input_rules(db: Database, cli_env: dict[str, str]) -> None:
    """The CLI goes through the same services: text they cannot store is refused, naming the
    field, and an id no token could have is not found (never a traceback)."""
    refused = _modeldesk("token", "create", "--role", "viewer", "--name", "ci\x1b[2J", env=cli_env)
    assert refused.returncode == 1 and "VALIDATION_ERROR" in refused.stderr
    assert "name must not contain control characters" in refused.stderr
    beyond_any_id = _modeldesk("token", "revoke", str(2**64), env=cli_env)
    assert beyond_any_id.returncode == 1 and "NOT_FOUND" in beyond_any_id.stderr
    assert "Traceback" not in refused.stderr + beyond_any_id.stderr


def test_unknown_role_is_refused_by_the_parser(cli_env: dict[str, str]) -> None:
    result = _modeldesk("token", "create", "--role", "root", env=cli_env)
    assert result.returncode == 2 and "invalid choice" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MODELDESK_RATE_LIMIT_BACKOFF", "abc", "'abc' is not a number of seconds"),
        ("MODELDESK_RATE_LIMIT_BACKOFF", "30,-1", "finite number of seconds >= 0"),
        ("MODELDESK_LIMITS_REFRESH_SECONDS", "soon", "a number of seconds > 0"),
        ("MODELDESK_JOB_HEARTBEAT_SECONDS", "0", "a number of seconds > 0"),
        ("MODELDESK_LOG_LEVEL", "LOUD", "one of DEBUG, INFO"),
        ("MODELDESK_DATABASE_URL", "mysql://u@h/db", "a postgresql:// URL"),
    ],
)
@pytest.mark.parametrize("command", [["worker"], ["serve", "--no-worker"], ["token", "list"]])
def test_a_bad_environment_value_stops_every_command_with_one_line(
    cli_env: dict[str, str], command: list[str], variable: str, value: str, expected: str
) -> None:
    result = _modeldesk(*command, env={**cli_env, variable: value})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"modeldesk: {variable}: expected ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`modeldesk serve` as `make run` starts it: no database URL, so the embedded server."""
    env = {k: v for k, v in os.environ.items() if k != "MODELDESK_DATABASE_URL"}
    env["MODELDESK_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modeldesk.cli", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def test_serve_on_the_embedded_database_prints_a_sign_in_url_and_is_healthy(
    serve_process: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = serve_process
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    sign_in = None
    lines: list[str] = []
    while sign_in is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        sign_in = SIGN_IN.search(line)
    assert sign_in is not None, "".join(lines)
    assert int(sign_in.group(1)) == port

    health = None
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    assert health is not None and health.status_code == 200
    assert health.json() == {"status": "ok", "database": "reachable"}

    signed_in = httpx.get(sign_in.group(0), timeout=5, follow_redirects=False)
    assert signed_in.status_code in (302, 303, 307)
    assert signed_in.headers["location"].endswith("/settings/models")

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    output = "".join(lines) + process.stdout.read()
    # The one-time code is printed once, in the sign-in URL; the access log shows it redacted.
    assert output.count(sign_in.group(2)) == 1
    assert "/login?code=[REDACTED]" in output

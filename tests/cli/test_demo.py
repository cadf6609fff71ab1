"""`modeldesk serve --demo` with no provider key anywhere: a run on the default models
completes against the built-in simulator; a second start adds nothing; the JSON log
of the whole session parses line by line and shows no key."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from modeldesk.auth import create_token
from modeldesk.db.run_tables import Definition
from modeldesk.db.session import Database
from modeldesk.db.tables import AuditEntry, LlmModel, LlmProvider
from modeldesk.demo import DEMO_DEFINITION, DEMO_KEY_PLACEHOLDER
from modeldesk.enums import RunStatus
from modeldesk.testing.live_server import free_port

SECRET = "opaque-unrelated-secret-9931"
CREATE_RUN = """
mutation Run($definitionId: ID!) {
  createRun(input: {definitionId: $definitionId}) { run { id models { modelId } } }
}
"""
RUN = "query Run($id: ID!) { run(id: $id) { status progress { total completed failed } } }"


def _demo_env(database_url: str) -> dict[str, str]:
    """The test's environment without a single provider key, logging JSON."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        MODELDESK_DATABASE_URL=database_url,
        MODELDESK_LOG_FORMAT="json",
        MODELDESK_DEMO_SECRET_TOKEN=SECRET,  # a secret that must stay out of the log
    )
    return env


@contextmanager
def _serve_demo(env: dict[str, str], log: Path) -> Iterator[int]:
    port = free_port()
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "modeldesk.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()


def _graphql(port: int, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _counts(db: Database) -> tuple[int, ...]:
    counts = []
    async with db.session() as session:
        for table in (LlmProvider, LlmModel, Definition, AuditEntry):
            counts.append(int(await session.scalar(select(func.count()).select_from(table)) or 0))
    return tuple(counts)


async def test_a_demo_run_completes_without_keys_and_a_second_start_adds_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    env = _demo_env(database_url)
    with _serve_demo(env, tmp_path / "first.log") as port:
        _, token = await create_token(db, role="admin", name="demo test")
        async with db.session() as session:
            definition_id = await session.scalar(
                select(Definition.id).where(Definition.name == DEMO_DEFINITION)
            )
        created = _graphql(port, token, CREATE_RUN, definitionId=str(definition_id))
        run = created["createRun"]["run"]
        # No model named: the default of every keyed provider, and only simlab has a key.
        assert [model["modelId"] for model in run["models"]] == ["sim-mini"]
        deadline = time.monotonic() + 60
        while (state := _graphql(port, token, RUN, id=run["id"])["run"])[
            "status"
        ] != RunStatus.COMPLETED:
            assert state["status"] in (RunStatus.PENDING, RunStatus.RUNNING), state
            assert time.monotonic() < deadline, state
            await asyncio.sleep(0.2)
        assert state["progress"] == {"total": 6, "completed": 6, "failed": 0}
    after_first = await _counts(db)

    with _serve_demo(env, tmp_path / "second.log"):
        pass
    providers, models, definitions, audit_entries = await _counts(db)
    # Only simlab's base URL follows the simulator's new port (one audited update).
    assert (providers, models, definitions) == after_first[:3] == (7, 12, 1)
    assert audit_entries == after_first[3] + 1

    for log in ("first.log", "second.log"):
        output = (tmp_path / log).read_text()
        lines = [json.loads(line) for line in output.splitlines()]  # every line parses
        assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
        assert SECRET not in output and DEMO_KEY_PLACEHOLDER not in output
    first = (tmp_path / "first.log").read_text()
    # The demo's occasional 429 happened, and the run still completed.
    assert any("rate limit" in json.loads(line)["message"].lower() for line in first.splitlines())

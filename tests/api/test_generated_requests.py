"""Generated calls of every query and mutation, valid and invalid, sent over HTTP as an admin.

hypothesis-graphql builds the calls from the schema the app serves (see
`generated_calls`), with values that reach real rows and values at the edges a
database has (NUL, control characters, ids beyond BIGINT, floats beyond any
price). Whatever arrives, the answer must be the product's own: no 5xx but
503, every error with a code, never INTERNAL_SERVER_ERROR, and nothing logged
by `modeldesk.api.errors` (which logs only what it did not expect).

The server is a real `modeldesk serve` process, so it answers while Hypothesis
builds the next call. Every mutation (and mode) is a test of its own on a
freshly seeded catalogue holding a definition and a run, so it may change
anything without affecting the next; the queries share one such catalogue.
Examples are derandomized: CI sends the same calls every time. With `-s` the
module prints the count of generated requests and their answers by code.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from generated_calls import OPERATIONS, calls
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis_graphql import Mode

from modeldesk import runs
from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.testing.live_server import free_port
from modeldesk.testing.serve_process import wait_until_healthy

EXAMPLES_PER_OPERATION = 100
# The logger of errors the API did not expect; each of its lines names the operation.
UNEXPECTED = b" modeldesk.api.errors: "


@dataclass
class ServeProcess:
    url: str
    log: Path
    _checked: int = 0

    def unexpected_errors(self) -> list[str]:
        """Lines logged as unexpected since the last call."""
        with self.log.open("rb") as output:
            output.seek(self._checked)
            new = output.read()
        self._checked += len(new)
        return [line.decode(errors="replace") for line in new.splitlines() if UNEXPECTED in line]


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    port = free_port()
    env = {
        # Unmeasured: coverage would triple the time of 7,000 requests, and the in-process
        # API tests cover the same code.
        **{name: value for name, value in os.environ.items() if not name.startswith("COVERAGE_")},
        "MODELDESK_DATABASE_URL": database_url,
        "MODELDESK_LOG_LEVEL": "WARNING",
        # A key makes openai's models available, so default-model runs and infrastructure
        # models resolve; with no worker, nothing ever calls the provider.
        "OPENAI_API_KEY": "sk-generated-requests",
    }
    command = [sys.executable, "-m", "modeldesk.cli", "serve", "--port", str(port), "--no-worker"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, url, log)
        yield ServeProcess(url, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def answers_by_code() -> Iterator[Counter[str]]:
    """Every generated request's answer, tallied for the whole module and printed at its end."""
    tally: Counter[str] = Counter()
    yield tally
    print(f"\ngenerated requests: {tally['requests']}; answers by code:")
    for code, count in sorted(tally.items()):
        if code != "requests":
            print(f"  {code}: {count}")


@pytest.fixture
async def catalogue_with_a_run(seeded_db: Database, admin: Principal) -> Database:
    """The seeded catalogue plus a definition (id 1) and a queued run (id 1) for lookups to find."""
    definition = await runs.create_definition(
        seeded_db, admin, name="Greetings", template="Say hi", scenarios=["Say hi", "Say bye"]
    )
    await runs.create_run(seeded_db, admin, definition.id, ["openai/gpt-5-mini"])
    return seeded_db


def _answer_codes(document: str, response: httpx.Response) -> list[str]:
    """The codes of one answer ("OK" for none), after checking it is the product's own."""
    assert response.status_code < 500 or response.status_code == 503, (document, response.text)
    body = response.json()
    errors = body.get("errors") or []
    codes = [(error.get("extensions") or {}).get("code") for error in errors]
    assert None not in codes, f"an error without a code for {document!r}: {errors}"
    assert "INTERNAL_SERVER_ERROR" not in codes, f"internal error for {document!r}: {errors}"
    return sorted(set(codes)) or ["OK"]


def _send_generated(
    server: ServeProcess, token: str, kind: str, field: str, mode: Mode
) -> Counter[str]:
    """Send `EXAMPLES_PER_OPERATION` generated calls of one root field; their answers by code."""
    answers: Counter[str] = Counter()
    server.unexpected_errors()  # what came before is not this field's
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(document=calls(kind, field, mode))
        def each_call(document: str) -> None:
            response = client.post("/graphql", json={"query": document})
            # Read first, so a line is blamed on the call that caused it even when the
            # answer fails its own check.
            logged = server.unexpected_errors()
            codes = _answer_codes(document, response)
            assert not logged, f"logged as unexpected for {document!r}: {logged}"
            answers.update(codes)
            answers["requests"] += 1

        each_call()
    print(f"\n{kind} {field} ({mode.name.lower()}): {dict(answers)}")
    assert answers["requests"] >= EXAMPLES_PER_OPERATION
    return answers


MODES = pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE], ids=["valid", "invalid"])
QUERIES = [name for kind, name in OPERATIONS if kind == "query"]
MUTATIONS = [name for kind, name in OPERATIONS if kind == "mutation"]


@MODES
async def test_generated_queries_get_the_products_own_answers(
    catalogue_with_a_run: Database,
    server: ServeProcess,
    admin_token: str,
    answers_by_code: Counter[str],
    mode: Mode,
) -> None:
    """Queries change nothing, so one seeded catalogue serves every one of them."""
    for field in QUERIES:
        # Off the event loop: the fixtures' database pool lives on it, idle meanwhile.
        answers = await asyncio.to_thread(
            _send_generated, server, admin_token, "query", field, mode
        )
        answers_by_code.update(answers)


@MODES
@pytest.mark.parametrize("field", MUTATIONS)
async def test_generated_mutations_get_the_products_own_answers(
    catalogue_with_a_run: Database,
    server: ServeProcess,
    admin_token: str,
    answers_by_code: Counter[str],
    field: str,
    mode: Mode,
) -> None:
    """Each mutation on a catalogue of its own: what it changed cannot steer the next."""
    answers = await asyncio.to_thread(_send_generated, server, admin_token, "mutation", field, mode)
    answers_by_code.update(answers)

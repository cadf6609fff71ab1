"""`MODELDESK_LOG_FORMAT=json` on a real worker: every line is one JSON object, lines
logged for a job carry its ids, and no key set in the environment ever appears."""

from __future__ import annotations

import json
from pathlib import Path

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run, wait_for_run
from modeldesk.testing.worker_fleet import WorkerFleet

# Neither is shaped like a known key, so only the formatter's own redaction of
# the environment's key values can keep them out of the log.
PROVIDER_KEY = "opaque-provider-key-4711"
OTHER_KEY = "opaque-other-key-0815"


async def test_json_lines_with_job_context_and_no_keys(
    db: Database, database_url: str, admin: Principal, sim: Simulator, tmp_path: Path
) -> None:
    provider, model = await add_simulated_provider(
        db, admin, sim.url, "jsonlog", api_key_env="JSONLOG_API_KEY"
    )
    # A provider echoing a key it was not sent (the adapter redacts only its own).
    echo = f"invalid request: the key {OTHER_KEY} is not valid for this model"
    sim.configure(
        model.model_id,
        provider=provider.name,
        outcomes=[Outcome.rate_limit(), Outcome.error(400, echo), "ok"],
    )
    env = {
        "MODELDESK_LOG_FORMAT": "json",
        "MODELDESK_LOG_LEVEL": "DEBUG",
        "JSONLOG_API_KEY": PROVIDER_KEY,
        "OPENAI_API_KEY": OTHER_KEY,
    }
    with WorkerFleet(database_url, tmp_path, env=env) as fleet:
        fleet.start()
        fleet.wait_until_started()
        run = await queue_probe_run(db, admin, [model], 2)
        run = await wait_for_run(db, run.id, within=30)
        assert (run.completed, run.failed) == (1, 1)
        assert fleet.stop(fleet.processes[0]) == 0
        output = fleet.log(0)

    lines = [json.loads(line) for line in output.splitlines()]  # every line parses
    assert len(lines) > 10
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
    assert PROVIDER_KEY not in output and OTHER_KEY not in output
    assert any("[REDACTED]" in line["message"] for line in lines)
    job_lines = [line for line in lines if "job_id" in line]
    assert job_lines
    for line in job_lines:
        assert line["provider"] == provider.name
        assert isinstance(line["probe_id"], int)
    assert {line.get("run_id") for line in job_lines} >= {run.id}

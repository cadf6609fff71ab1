"""The run page's control buttons, the budget cap in the builder, and the transcript downloads."""

from __future__ import annotations

import csv
import io
import json

import httpx
from sqlalchemy import update
from web_ui_client import UiClient, badge_text

from modeldesk.auth import create_token
from modeldesk.auth.principal import Principal
from modeldesk.db.run_tables import Probe, Run, Transcript
from modeldesk.db.session import Database
from modeldesk.enums import ProbeState, RunStatus, TranscriptStatus
from modeldesk.runs import create_definition, create_run, get_run, list_runs

ADMIN = Principal.system("alice")


async def _run(db: Database) -> int:
    definition = await create_definition(
        db, ADMIN, name="Pair", template="Answer.", scenarios=['One, "quoted"?', "Two?"]
    )
    return (await create_run(db, ADMIN, definition.id, ["1"])).id


async def _fail_retryably(db: Database, run_id: int) -> None:
    """Record the run's probes as rate-limited for good, as a worker would have."""
    async with db.transaction() as session:
        probes = list(
            await session.scalars(
                update(Probe)
                .where(Probe.run_id == run_id)
                .values(
                    state=ProbeState.FAILED,
                    error_code="RATE_LIMITED",
                    error_message="429",
                    retryable=True,
                )
                .returning(Probe)
            )
        )
        session.add_all(
            Transcript(
                run_id=run_id,
                scenario_id=p.scenario_id,
                model_id=p.model_id,
                probe_id=p.id,
                status=TranscriptStatus.FAILED,
                error_code="RATE_LIMITED",
            )
            for p in probes
        )
        await session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(status=RunStatus.FAILED, failed=len(probes), finished_at=Run.created_at)
        )


async def test_pause_then_resume_from_the_run_page(admin_ui: UiClient, seeded_db: Database) -> None:
    run_id = await _run(seeded_db)
    page = (await admin_ui.get(f"/runs/{run_id}")).text
    assert f'hx-post="/runs/{run_id}/pause"' in page and ">Pause</button>" in page
    assert "Resume</button>" not in page and "Retry failed probes" not in page

    paused = await admin_ui.act(f"/runs/{run_id}/pause")
    assert paused.status_code == 200
    assert f"Run #{run_id} is paused: no new call starts until you resume it." in paused.text
    assert f'run-status-{RunStatus.PAUSED}">{badge_text(RunStatus.PAUSED)}</span>' in paused.text
    assert ">Resume</button>" in paused.text and ">Pause</button>" not in paused.text
    assert (await get_run(seeded_db, run_id)).status == RunStatus.PAUSED
    assert badge_text(RunStatus.PAUSED) in (await admin_ui.get("/runs")).text

    resumed = await admin_ui.act(f"/runs/{run_id}/resume")
    assert f"Run #{run_id} resumed" in resumed.text
    assert (await get_run(seeded_db, run_id)).status == RunStatus.PENDING


async def test_retry_failed_probes_shows_its_count_and_queues_them(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    run_id = await _run(seeded_db)
    await _fail_retryably(seeded_db, run_id)
    page = (await admin_ui.get(f"/runs/{run_id}")).text
    assert ">Retry failed probes (2)</button>" in page
    response = await admin_ui.act(f"/runs/{run_id}/retry")
    assert f"Run #{run_id}: 2 failed probes queued again." in response.text
    run = await get_run(seeded_db, run_id)
    assert (run.status, run.failed) == (RunStatus.RUNNING, 0)
    refused = await admin_ui.act(f"/runs/{run_id}/retry")
    assert refused.status_code == 409
    assert "is still running" in refused.text


async def test_a_viewer_sees_no_control_and_is_refused(
    viewer_ui: UiClient, seeded_db: Database
) -> None:
    run_id = await _run(seeded_db)
    page = (await viewer_ui.get(f"/runs/{run_id}")).text
    assert ">Pause</button>" not in page
    assert "Download JSONL" in page and "Download CSV" in page  # reading is for everyone
    for action in ("pause", "resume", "retry"):
        assert (await viewer_ui.act(f"/runs/{run_id}/{action}")).status_code == 403
    assert (await get_run(seeded_db, run_id)).status == RunStatus.PENDING


async def test_the_builder_takes_a_cap_and_sets_it_against_the_estimate(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    definition = await create_definition(
        seeded_db, ADMIN, name="Caps", template="Answer.", scenarios=["A?", "B?"]
    )
    assert 'name="maxCost"' in (await admin_ui.get("/runs/new")).text
    params = {"definitionId": definition.id, "models": "2", "maxCost": "0.001"}
    over = (await admin_ui.get("/runs/estimate", params=params)).text
    assert "Budget cap <strong>$0.001</strong> is below the estimate" in over
    within = (await admin_ui.get("/runs/estimate", params={**params, "maxCost": "5"})).text
    assert "Budget cap <strong>$5.00</strong>; the estimate of" in within
    bad = (await admin_ui.get("/runs/estimate", params={**params, "maxCost": "-2"})).text
    assert "No estimate: maxCost must be 0 or more" in bad

    form = {"definitionId": str(definition.id), "models": "2", "maxCost": "0.25"}
    await admin_ui.act("/runs", form)
    (run,) = await list_runs(seeded_db)
    assert str(run.max_cost) == "0.25"
    page = (await admin_ui.get(f"/runs/{run.id}")).text
    assert "<dt>Budget cap</dt><dd>$0.25</dd>" in page


async def test_downloads_need_a_signed_in_user_by_session_or_bearer(
    admin_ui: UiClient, anonymous: httpx.AsyncClient, seeded_db: Database
) -> None:
    run_id = await _run(seeded_db)
    await _fail_retryably(seeded_db, run_id)
    jsonl = await admin_ui.get(f"/runs/{run_id}/transcripts.jsonl")
    assert jsonl.status_code == 200
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="run-1-transcripts.jsonl"' in jsonl.headers["content-disposition"]
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [(r["scenario"], r["status"], r["error_code"]) for r in rows] == [
        ('One, "quoted"?', TranscriptStatus.FAILED, "RATE_LIMITED"),
        ("Two?", TranscriptStatus.FAILED, "RATE_LIMITED"),
    ]

    _, viewer_token = await create_token(seeded_db, role="viewer", name="script")
    bearer = {"Authorization": f"Bearer {viewer_token}"}
    table = await anonymous.get(f"/runs/{run_id}/transcripts.csv", headers=bearer)
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["scenario"] for row in parsed] == ['One, "quoted"?', "Two?"]

    signed_out = await anonymous.get(f"/runs/{run_id}/transcripts.csv")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=/runs/1/transcripts.csv")
    bad = await anonymous.get(
        f"/runs/{run_id}/transcripts.jsonl", headers={"Authorization": "Bearer mdk_nope"}
    )
    assert (bad.status_code, bad.text.split(":")[0]) == (401, "UNAUTHENTICATED")
    missing = await anonymous.get("/runs/999/transcripts.jsonl", headers=bearer)
    assert (missing.status_code, missing.text.split(":")[0]) == (404, "NOT_FOUND")
    assert (await admin_ui.get("/runs/999/transcripts.csv")).status_code == 404

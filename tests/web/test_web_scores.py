"""A judged run's page and the runs list over ASGI: the scores chart beside the cost per
model, each transcript's score and summary, the report and the leading model (SPEC 9.5)."""

from __future__ import annotations

import json
import re

import pytest
from web_ui_client import UiClient

from modeldesk.auth.principal import Principal
from modeldesk.db.run_tables import Run
from modeldesk.db.session import Database
from modeldesk.enums import InfraWorkStatus
from modeldesk.runs import (
    create_definition,
    create_run,
    get_definition,
    list_definitions,
    list_runs,
)
from modeldesk.testing import Simulator
from modeldesk.testing.judged_runs import (
    KEY_VARIABLE,
    add_judge_and_analyst,
    run_every_step,
    verdict,
)
from modeldesk.testing.probe_runs import add_simulated_provider

ADMIN = Principal.system("alice")
REPORT = "alpha leads clearly; beta's answers were vague."
# The judge scores alpha 8 and 9, beta 4 and 6 (its prompt holds the target's answer).
REPLIES = [
    ("alpha-model to: First?", verdict(8, "Alpha, first: precise.")),
    ("alpha-model to: Second?", verdict(9, "Alpha, second: precise.")),
    ("beta-model to: First?", verdict(4, "Beta, first: vague.")),
    ("beta-model to: Second?", verdict(6, "Beta, second: vague.")),
]


async def judged_run(db: Database, sim: Simulator) -> Run:
    alpha = (await add_simulated_provider(db, ADMIN, sim.url, "alpha"))[1]
    beta = (await add_simulated_provider(db, ADMIN, sim.url, "beta"))[1]
    await add_judge_and_analyst(db, ADMIN, sim, replies=REPLIES, report=REPORT)
    definition = await create_definition(
        db, ADMIN, name="Judged", template="Q", scenarios=["First?", "Second?"], rubric="0-10"
    )
    run = await create_run(db, ADMIN, definition.id, [str(alpha.id), str(beta.id)])
    await run_every_step(db, run.id)
    return run


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "sk-simulated-key")


async def test_the_run_page_charts_scores_with_intervals_next_to_costs(
    seeded_db: Database, sim: Simulator, keyed: None, viewer_ui: UiClient
) -> None:
    run = await judged_run(seeded_db, sim)

    html = (await viewer_ui.get(f"/runs/{run.id}")).text

    chart = html[html.index('<svg class="scores-chart"') : html.index("</svg>")]
    assert "style=" not in chart  # the CSP forbids inline styles
    assert chart.count("data-mean") == 2 and chart.count("data-interval") == 2
    assert 'class="score-row score-leading" data-model="alpha/alpha-model"' in chart
    # alpha: mean 8.5 over 2; beta: 5 over 2 (t(0.975, 1) x se makes wide intervals).
    assert "alpha/alpha-model: mean 8.50 over 2 scored answers" in chart
    assert "beta/beta-model: mean 5.00 over 2 scored answers" in chart
    assert re.search(r"<td class=\"num\">8\.50</td>", html)
    assert "Alpha, first: precise." in html and "Beta, second: vague." in html
    assert REPORT.replace("'", "&#39;") in html
    assert f"Analysis: {InfraWorkStatus.COMPLETED.lower()}" in html

    listing = (await viewer_ui.get("/runs")).text
    assert "<code data-leader>alpha/alpha-model</code>" in listing


async def test_a_run_without_judging_shows_no_scores(
    seeded_db: Database, sim: Simulator, admin_ui: UiClient
) -> None:
    model = (await add_simulated_provider(seeded_db, ADMIN, sim.url, "plain"))[1]
    definition = await create_definition(
        seeded_db, ADMIN, name="Plain", template="Q", scenarios=["First?"]
    )
    run = await create_run(seeded_db, ADMIN, definition.id, [str(model.id)])
    html = (await admin_ui.get(f"/runs/{run.id}")).text
    assert "Scores per model" not in html and '<th scope="col">Judge</th>' not in html


async def test_the_rubric_is_written_shown_edited_and_turns_judging_on(
    seeded_db: Database, sim: Simulator, keyed: None, admin_ui: UiClient, viewer_ui: UiClient
) -> None:
    model = (await add_simulated_provider(seeded_db, ADMIN, sim.url, "gamma"))[1]
    await add_judge_and_analyst(seeded_db, ADMIN, sim)
    form = {"name": "Rated", "template": "Q", "scenarios": "One?\nTwo?", "rubric": "Score 0-5."}
    assert (await admin_ui.act("/runs/definitions", form)).status_code == 200
    (definition,) = await list_definitions(seeded_db)
    assert definition.rubric == "Score 0-5."

    page = (await viewer_ui.get("/runs/new")).text
    assert ">Score 0-5.</textarea>" in page
    assert 'id="run-summarize" name="summarize" value="1" checked' in page
    fragment = await viewer_ui.fragment(f"/runs/rubric?definitionId={definition.id}")
    assert ">Score 0-5.</textarea>" in fragment.text
    assert fragment.headers["HX-Trigger-After-Swap"] == "rubric-shown"
    query = f"definitionId={definition.id}&models={model.id}&summarizeShown=1"
    judged = (await viewer_ui.fragment(f"/runs/estimate?{query}&summarize=1")).text
    assert 'id="estimate-judging"' in judged
    assert 'id="estimate-judging"' not in (await viewer_ui.fragment(f"/runs/estimate?{query}")).text

    run_form = {
        "definitionId": str(definition.id),
        "models": str(model.id),
        "samplePercentage": "100",
        "rubric": "Score 0-10 for tone.",
        "summarizeShown": "1",
        "summarize": "1",
    }
    # A viewer may look, not start a run nor change the rubric.
    assert (await viewer_ui.act("/runs", run_form)).status_code == 403
    assert (await get_definition(seeded_db, definition.id)).rubric == "Score 0-5."
    response = await admin_ui.act("/runs", run_form)
    (run,) = await list_runs(seeded_db)
    assert response.headers["HX-Redirect"] == f"/runs/{run.id}?created=1"
    assert run.summarize
    assert (await get_definition(seeded_db, definition.id)).rubric == "Score 0-10 for tone."

    unticked = {key: value for key, value in run_form.items() if key != "summarize"}
    assert (await admin_ui.act("/runs", unticked)).status_code == 200
    newest = (await list_runs(seeded_db))[0]
    assert newest.id != run.id and not newest.summarize


async def test_the_export_carries_each_summary_and_score(
    seeded_db: Database, sim: Simulator, keyed: None, viewer_ui: UiClient
) -> None:
    run = await judged_run(seeded_db, sim)

    lines = (await viewer_ui.get(f"/runs/{run.id}/transcripts.jsonl")).text.splitlines()

    rows = sorted((json.loads(line) for line in lines), key=lambda row: row["summary"])
    assert [(row["model_id"], row["score"], row["summary_status"]) for row in rows] == [
        ("alpha-model", "8", InfraWorkStatus.COMPLETED),
        ("alpha-model", "9", InfraWorkStatus.COMPLETED),
        ("beta-model", "4", InfraWorkStatus.COMPLETED),
        ("beta-model", "6", InfraWorkStatus.COMPLETED),
    ]
    assert rows[0]["summary"] == "Alpha, first: precise."
    csv_text = (await viewer_ui.get(f"/runs/{run.id}/transcripts.csv")).text
    assert csv_text.splitlines()[0].endswith("summary_status,score,summary")

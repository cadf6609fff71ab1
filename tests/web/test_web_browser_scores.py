"""The scores chart of a judged run in Chromium: drawn, CSP-clean, the leader ahead (SPEC 9.5)."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect
from test_web_scores import REPORT, judged_run
from web_browser import sign_in

from modeldesk.db.session import Database
from modeldesk.testing import Simulator
from modeldesk.testing.judged_runs import KEY_VARIABLE
from modeldesk.testing.live_server import LiveServer


async def test_the_run_page_draws_each_models_mean_and_interval(
    browser_context: BrowserContext,
    live_server: LiveServer,
    seeded_db: Database,
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "sk-simulated-key")
    run = await judged_run(seeded_db, sim)
    viewer = await sign_in(browser_context, live_server, seeded_db, "viewer", "vera")
    page = viewer.page

    await viewer.goto(f"/runs/{run.id}")

    chart = page.locator("svg[data-scores-chart]")
    await expect(chart).to_be_visible()
    means = chart.locator("circle[data-mean]")
    await expect(means).to_have_count(2)
    alpha = await chart.locator('[data-model="alpha/alpha-model"] circle').bounding_box()
    beta = await chart.locator('[data-model="beta/beta-model"] circle').bounding_box()
    assert alpha is not None and beta is not None
    assert alpha["x"] > beta["x"]  # 8.5 is right of 5 on the score axis
    assert alpha["width"] > 0 and await chart.locator("line[data-interval]").count() == 2
    fill = await means.first.evaluate("node => getComputedStyle(node).fill")
    assert fill != "none" and fill != "rgb(0, 0, 0)"  # coloured by app.css, not inline
    await expect(page.locator("[data-analysis-report]")).to_have_text(REPORT)
    await expect(page.locator("td[data-summary]").first).to_contain_text("precise")
    assert viewer.errors == []  # no CSP violation, no script error

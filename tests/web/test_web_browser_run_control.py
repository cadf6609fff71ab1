"""Run control in Chromium: Pause, Resume, Retry failed probes and the downloads, with a real
worker calling the provider simulator."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect
from web_browser import SignedInPage, in_process_worker
from web_ui_client import badge_text

from modeldesk.auth.principal import Principal
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.enums import RunStatus, TranscriptStatus
from modeldesk.runs import get_run
from modeldesk.testing import Outcome, Simulator
from modeldesk.testing.probe_runs import add_simulated_provider, queue_probe_run

ALICE = Principal.system("alice")


@pytest.fixture
async def model(seeded_db: Database, sim: Simulator) -> LlmModel:
    """One simulated provider, one call at a time, so a run moves slowly enough to pause."""
    provider, created = await add_simulated_provider(
        seeded_db, ALICE, sim.url, "steady", parallel=1
    )
    sim.configure(created.model_id, provider=provider.name, latency=0.5)
    return created


@pytest.fixture
async def worker(model: LlmModel, database_url: str) -> AsyncIterator[None]:
    settings = Settings(
        database_url=database_url, limits_refresh_seconds=0.5, rate_limit_backoff=(0.1,)
    )
    async with in_process_worker(settings):
        yield


async def test_pause_resume_and_download_a_run(
    admin_page: SignedInPage, seeded_db: Database, model: LlmModel, worker: None
) -> None:
    run = await queue_probe_run(seeded_db, ALICE, [model], 30)  # 15 s of calls: time to pause
    page = admin_page.page
    await admin_page.goto(f"/runs/{run.id}")
    state = page.locator("#run-state-title")
    await expect(state).to_contain_text(badge_text(RunStatus.RUNNING), timeout=10_000)

    await page.get_by_role("button", name="Pause").click()
    await expect(state).to_contain_text(badge_text(RunStatus.PAUSED))
    await expect(page.get_by_role("status")).to_contain_text(f"Run #{run.id} is paused")
    await expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    assert (await get_run(seeded_db, run.id)).status == RunStatus.PAUSED

    await page.get_by_role("button", name="Resume").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Run #{run.id} resumed")
    await expect(state).to_contain_text(badge_text(RunStatus.COMPLETED), timeout=60_000)
    await expect(page.locator(".progress-figures").first).to_have_text("30/30")

    async with page.expect_download() as started:
        await page.get_by_role("link", name="Download CSV").click()
    download = await started.value
    assert download.suggested_filename == f"run-{run.id}-transcripts.csv"
    rows = list(csv.DictReader(io.StringIO((await download.path()).read_text())))
    assert len(rows) == 30 and {row["status"] for row in rows} == {TranscriptStatus.SUCCEEDED}

    async with page.expect_download() as started:
        await page.get_by_role("link", name="Download JSONL").click()
    lines = (await (await started.value).path()).read_text().splitlines()
    assert [json.loads(line)["model_id"] for line in lines] == [model.model_id] * 30


async def test_retry_failed_probes_after_the_provider_recovers(
    admin_page: SignedInPage,
    seeded_db: Database,
    simulator: Simulator,
    model: LlmModel,
    worker: None,
) -> None:
    simulator.configure(model.model_id, provider="steady", then=Outcome.rate_limit())
    run = await queue_probe_run(seeded_db, ALICE, [model], 3)
    page = admin_page.page
    await admin_page.goto(f"/runs/{run.id}")
    retry = page.get_by_role("button", name="Retry failed probes (3)")
    await expect(retry).to_be_visible(timeout=30_000)  # shown once the run has failed
    await expect(page.locator("#run-state-title")).to_contain_text(badge_text(RunStatus.FAILED))

    simulator.configure(model.model_id, provider="steady")
    await retry.click()
    await expect(page.get_by_role("status")).to_contain_text("3 failed probes queued again")
    await expect(page.locator("#run-state-title")).to_contain_text(
        badge_text(RunStatus.COMPLETED), timeout=30_000
    )
    await expect(retry).to_have_count(0)
    assert (await get_run(seeded_db, run.id)).completed == 3

"""A run in Chromium, end to end: written, priced and started in the UI, probed by a real
worker against the provider simulator, watched to completion with its costs shown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect
from web_browser import SignedInPage, in_process_worker, save_screenshot
from web_ui_client import badge_text

from modeldesk.auth.principal import Principal
from modeldesk.catalog import ModelCreate, ProviderCreate, create_model, create_provider
from modeldesk.config import Settings
from modeldesk.db.run_tables import Transcript
from modeldesk.db.session import Database
from modeldesk.enums import RunStatus, TranscriptStatus
from modeldesk.runs import (
    cancel_run,
    cost_breakdown,
    create_definition,
    create_run,
    list_definitions,
    list_runs,
)
from modeldesk.testing import Simulator
from modeldesk.testing.probe_runs import transcripts_by_run_ids
from modeldesk.web.rendering import format_usd

KEY_VARIABLE = "SIMLAB_API_KEY"
TIMES = "\N{MULTIPLICATION SIGN}"


@pytest.fixture
async def simlab(seeded_db: Database, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A provider of two models on the simulator, the only one with a key (so its default
    is the one pre-selected)."""
    sim.configure("sim-fast", latency=0.05, input_tokens=1200, output_tokens=300)
    sim.configure("sim-deep", latency=0.4, input_tokens=2000, output_tokens=900)
    monkeypatch.setenv(KEY_VARIABLE, "sim-key")
    admin = Principal.system("setup")
    provider = await create_provider(
        seeded_db,
        admin,
        ProviderCreate.parse(
            name="simlab",
            display_name="Simulator Lab",
            api_style="OPENAI",
            base_url=sim.url + "/v1",
            api_key_env=KEY_VARIABLE,
            max_parallel_requests=2,
            requests_per_minute=600,
        ),
    )
    for model_id, name, prices, default in (
        ("sim-fast", "Sim Fast", ("0.50", "1.50"), True),
        ("sim-deep", "Sim Deep", ("3.00", "15.00"), False),
    ):
        data = ModelCreate.parse(
            provider_id=provider.id,
            model_id=model_id,
            display_name=name,
            cost_input_per_million=prices[0],
            cost_output_per_million=prices[1],
            set_as_default=default,
        )
        await create_model(seeded_db, admin, data)
    return seeded_db


@pytest.fixture
async def worker(simlab: Database, database_url: str) -> AsyncIterator[None]:
    async with in_process_worker(Settings(database_url=database_url, limits_refresh_seconds=0.5)):
        yield


async def _expect_costs(page: Page, db: Database, run_id: int) -> None:
    breakdown = await cost_breakdown(db, run_id)
    assert breakdown.total_cost > 0
    table = page.locator(".cost-table")
    for line in breakdown.per_model:
        await expect(table).to_contain_text(format_usd(line.cost))
    await expect(table.locator("tfoot")).to_contain_text(format_usd(breakdown.total_cost))


async def test_create_a_run_and_watch_it_complete(
    simlab: Database, admin_page: SignedInPage, worker: None
) -> None:
    page = admin_page.page
    await admin_page.goto("/runs/new")
    await expect(page.get_by_text("There is no definition yet.")).to_be_visible()
    form = page.locator("#definition-form")
    await form.get_by_label("Name", exact=True).fill("Greetings")
    await form.get_by_label("Prompt template").fill("Greet someone.")
    await form.get_by_label("Scenarios, one per line").fill("Greet Ann.\nGreet Bob.\nGreet Eve.")
    await form.get_by_role("button", name="Create definition").click()
    await expect(page.get_by_role("status")).to_contain_text("created with 3 scenario(s)")

    builder = page.locator("#run-builder")
    (definition,) = await list_definitions(simlab)
    await expect(builder.get_by_label("Definition", exact=True)).to_have_value(str(definition.id))
    await expect(builder.get_by_label("Sim Fast sim-fast Default")).to_be_checked()
    deep = builder.get_by_label("Sim Deep sim-deep")
    await expect(deep).not_to_be_checked()
    await expect(builder.get_by_label("GPT-5 mini gpt-5-mini Default")).not_to_be_checked()
    estimate = builder.locator("#estimate")
    await expect(estimate).to_contain_text(f"for 3 probes (3 scenarios {TIMES} 1 model)")
    await deep.check()
    await expect(estimate).to_contain_text(f"for 6 probes (3 scenarios {TIMES} 2 models)")

    await save_screenshot(page, "new-run.png")
    await builder.get_by_role("button", name="Start run").click()
    await page.wait_for_url("**/runs/*?created=1")
    (run,) = await list_runs(simlab)
    await expect(page.get_by_role("status")).to_contain_text(f"Run #{run.id} started")
    # The page polls: no reload is needed to see the run finish.
    await expect(page.locator("#run-state-title")).to_contain_text(
        badge_text(RunStatus.COMPLETED), timeout=30_000
    )
    await expect(page.locator(".progress-figures").first).to_have_text("6/6")
    await expect(page.locator(".transcripts-table tbody tr")).to_have_count(6)
    await _expect_costs(page, simlab, run.id)
    await expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    await save_screenshot(page, "run-details.png")


async def test_the_run_list_follows_a_moving_run(
    simlab: Database, admin_page: SignedInPage, simulator: Simulator, worker: None
) -> None:
    # The provider refuses the first call outright: that probe fails and counts as done.
    simulator.configure(
        "sim-deep", latency=0.4, outcomes=["400"], input_tokens=2000, output_tokens=900
    )
    definition = await create_definition(
        simlab,
        Principal.system("alice"),
        name="Capitals",
        template="Name a capital.",
        scenarios=[f"Capital of country {i}?" for i in range(8)],
    )
    alice = Principal.system("alice")
    stopped = await create_run(simlab, alice, definition.id, ["simlab/sim-fast"])
    await cancel_run(simlab, alice, stopped.id)
    run = await create_run(simlab, alice, definition.id, ["simlab/sim-deep"])
    page = admin_page.page
    await admin_page.goto("/runs")
    await expect(page.locator(f"#run-{stopped.id}")).to_contain_text(
        badge_text(RunStatus.CANCELLED)
    )
    row = page.locator(f"#run-{run.id}")
    await expect(row).to_contain_text("simlab/sim-deep")
    await expect(row).to_contain_text(badge_text(RunStatus.COMPLETED), timeout=30_000)
    await expect(row.locator(".progress-figures")).to_have_text("8/8 · 1 failed")
    breakdown = await cost_breakdown(simlab, run.id)
    await expect(row).to_contain_text(format_usd(breakdown.total_cost))
    await save_screenshot(page, "runs-list.png")

    await row.get_by_role("link", name=f"#{run.id}").click()
    (failed,) = [
        t for t in await _transcripts(simlab, run.id) if t.status == TranscriptStatus.FAILED
    ]
    failed_row = page.locator(f"#transcript-{failed.id}")
    await expect(failed_row).to_contain_text("Failed")
    await expect(failed_row).to_contain_text(str(failed.error_code))
    await expect(failed_row).to_contain_text("$0.00")


async def test_cancel_a_run_after_confirming(simlab: Database, admin_page: SignedInPage) -> None:
    """No worker runs here, so the run waits and can be cancelled."""
    definition = await create_definition(
        simlab, Principal.system("alice"), name="Waits", template="Wait.", scenarios=["a", "b"]
    )
    run = await create_run(simlab, Principal.system("alice"), definition.id, ["simlab/sim-fast"])
    page = admin_page.page
    await admin_page.goto(f"/runs/{run.id}")
    await page.get_by_role("button", name="Cancel run").click()
    dialog = page.locator("#cancel-dialog")
    await expect(dialog).to_contain_text("No new call will start.")
    await expect(dialog.get_by_role("button", name="Keep running")).to_be_focused()
    await dialog.get_by_role("button", name="Cancel run").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#run-state-title")).to_contain_text(badge_text(RunStatus.CANCELLED))
    await expect(page.get_by_role("status")).to_contain_text(f"Run #{run.id} is cancelled")
    assert (await list_runs(simlab))[0].status == RunStatus.CANCELLED


async def _transcripts(db: Database, run_id: int) -> list[Transcript]:
    return (await transcripts_by_run_ids(db, [run_id]))[run_id]

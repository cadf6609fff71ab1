"""Settings > Prices and the reference in the Add model dialog, over ASGI."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from price_reference_data import DIFFERING, write_prices_file
from web_catalog_reads import model_row, price_versions, provider_row
from web_ui_client import UiClient

from modeldesk.db.session import Database


@pytest.fixture(autouse=True)
def prices_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app reads a known data file (named before the app's settings are made)."""
    path = write_prices_file(tmp_path / "data.json")
    monkeypatch.setenv("MODELDESK_PRICES_FILE", str(path))
    return path


def _selectable(html: str) -> set[str]:
    return set(re.findall(r'name="modelIds" value="(\d+)"', html))


async def test_admin_sees_the_proposals_with_their_differences(admin_ui: UiClient) -> None:
    html = (await admin_ui.get("/settings/prices")).text
    assert 'aria-current="page">Prices</a>' in html
    for identifier in DIFFERING:
        assert f">{identifier}</code>" in html
    assert len(_selectable(html)) == len(DIFFERING)
    # Only the parts that differ are highlighted: gpt-5-mini 1, Sonnet 3, DeepSeek Chat 2.
    assert html.count('class="price-diff"') == 6
    assert '<del>none</del> <span aria-hidden="true">→</span> <ins>0.025</ins>' in html
    assert "Apply selected" in html
    assert "claude-haiku-4-5</code>: anthropic/claude-haiku-4-5: input_mtok has 2" in html


async def test_a_viewer_sees_them_read_only_and_cannot_apply(
    viewer_ui: UiClient, seeded_db: Database
) -> None:
    html = (await viewer_ui.get("/settings/prices")).text
    assert "read-only" in html and "price-diff" in html
    assert _selectable(html) == set() and "Apply selected" not in html
    mini = await model_row(seeded_db, "gpt-5-mini")
    refused = await viewer_ui.act("/settings/prices/apply", {"modelIds": str(mini.id)})
    assert refused.status_code == 403
    assert len(await price_versions(seeded_db, mini.id)) == 1


async def test_apply_selected_opens_new_price_versions(
    admin_ui: UiClient, seeded_db: Database, prices_file: Path
) -> None:
    mini = await model_row(seeded_db, "gpt-5-mini")
    sonnet = await model_row(seeded_db, "claude-sonnet-4-5")
    forged = await admin_ui.act("/settings/prices/apply", {"modelIds": str(mini.id)}, csrf="forged")
    assert forged.status_code == 403
    response = await admin_ui.http.post(
        "/settings/prices/apply",
        content=f"modelIds={mini.id}&modelIds={sonnet.id}",
        headers={
            "HX-Request": "true",
            "X-CSRF-Token": admin_ui.csrf,
            "content-type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 200, response.text
    assert "Applied the reference prices" in response.text and str(prices_file) in response.text
    assert _selectable(response.text) == {str((await model_row(seeded_db, "deepseek-chat")).id)}
    assert (await model_row(seeded_db, "gpt-5-mini")).cost_cached_input_per_million == Decimal(
        "0.025"
    )
    versions = await price_versions(seeded_db, sonnet.id)
    assert len(versions) == 2 and versions[-1].long_context_threshold == 200_000

    nothing = await admin_ui.act("/settings/prices/apply", {})
    assert nothing.status_code == 422 and "Select at least one model" in nothing.text


async def test_the_models_page_marks_models_whose_price_differs(admin_ui: UiClient) -> None:
    html = (await admin_ui.get("/settings/models")).text
    assert html.count(">Price differs</a>") == len(DIFFERING)


async def test_add_model_offers_and_fills_from_the_reference(
    admin_ui: UiClient, viewer_ui: UiClient, seeded_db: Database
) -> None:
    anthropic = await provider_row(seeded_db, "anthropic")
    options = await admin_ui.fragment(
        f"/settings/models/reference-options?providerId={anthropic.id}"
    )
    assert options.status_code == 200
    assert '<option value="claude-sonnet-4-5">Claude Sonnet 4.5</option>' in options.text
    assert '"claude-haiku-4-5"' not in options.text  # its two tiers cannot be held here
    refused = await viewer_ui.fragment(
        f"/settings/models/reference-options?providerId={anthropic.id}"
    )
    assert refused.status_code == 403

    fill = (
        f"/settings/models/reference-fill?providerId={anthropic.id}"
        "&referenceModel=claude-sonnet-4-5-20250929"
    )
    filled = (await admin_ui.fragment(fill)).text
    for name, value in {
        "modelId": "claude-sonnet-4-5-20250929",
        "displayName": "Claude Sonnet 4.5",
        "costInputPerMillion": "3",
        "costCacheWritePerMillion": "3.75",
        "longContextTier.thresholdTokens": "200000",
        "longContextTier.costOutputPerMillion": "22.5",
    }.items():
        assert f'name="{name}" type="text" value="{value}"' in filled, name
    unknown = await admin_ui.fragment(
        f"/settings/models/reference-fill?providerId={anthropic.id}&referenceModel=claude-99"
    )
    assert unknown.status_code == 422 and "know no model" in unknown.text


async def test_the_add_form_saves_a_tier_and_checks_it(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    anthropic = await provider_row(seeded_db, "anthropic")
    form = {
        "providerId": str(anthropic.id),
        "modelId": "claude-next",
        "displayName": "Claude Next",
        "costInputPerMillion": "2",
        "costOutputPerMillion": "10",
        "costCacheWritePerMillion": "2.5",
        "longContextTier.costInputPerMillion": "4",
    }
    refused = await admin_ui.act("/settings/models", form)
    assert refused.status_code == 422
    assert 'id="add-tier-threshold-error"' in refused.text
    saved = await admin_ui.act(
        "/settings/models", {**form, "longContextTier.thresholdTokens": "1e3"}
    )
    assert saved.status_code == 422  # a whole number of tokens, not 1e3
    saved = await admin_ui.act(
        "/settings/models", {**form, "longContextTier.thresholdTokens": "100000"}
    )
    assert saved.status_code == 200, saved.text
    model = await model_row(seeded_db, "claude-next")
    assert (model.cost_cache_write_per_million, model.long_context_threshold) == (
        Decimal("2.5"),
        100_000,
    )
    assert model.long_context_cost_input_per_million == Decimal(4)
    assert model.long_context_cost_output_per_million is None


async def test_the_provider_card_sets_its_reference_provider(
    admin_ui: UiClient, seeded_db: Database
) -> None:
    xai = await provider_row(seeded_db, "xai")
    page = (await admin_ui.get("/settings/models")).text
    assert (
        f'id="p{xai.id}-referenceProvider" name="referenceProvider" type="text" value="x-ai"'
        in page
    )
    form = {"maxParallelRequests": "2", "requestsPerMinute": "30", "isEnabled": "on"}
    saved = await admin_ui.act(f"/settings/providers/{xai.id}", {**form, "referenceProvider": ""})
    assert saved.status_code == 200
    assert (await provider_row(seeded_db, "xai")).reference_provider is None
    bad = await admin_ui.act(f"/settings/providers/{xai.id}", {**form, "referenceProvider": "x ai"})
    assert bad.status_code == 422 and "referenceProvider may hold only" in bad.text

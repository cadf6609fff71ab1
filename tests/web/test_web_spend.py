"""`/spend`: the chart and the table show the hand-computed figures of the sample calls."""

from __future__ import annotations

import re

import httpx
from web_ui_client import UiClient

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.testing.spend_records import SAMPLE_CALLS, SAMPLE_PERIOD, record_calls

_BAR_TITLE = re.compile(r"<rect class=\"series-(\d)\"[^>]*><title>([^<]+)</title></rect>")


def _model_rows(page: str) -> list[list[str]]:
    table = page.split('<table class="table spend-models">', 1)[1]
    table = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in rows
    ]


async def test_the_page_shows_the_hand_computed_figures(
    seeded_db: Database, admin: Principal, viewer_ui: UiClient
) -> None:
    await record_calls(seeded_db, admin, SAMPLE_CALLS)
    start, end = SAMPLE_PERIOD

    response = await viewer_ui.get(
        "/spend", params={"from": start.isoformat(), "to": end.isoformat()}
    )

    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page = response.text
    assert 'data-figure="total">$0.0151<' in page
    assert _model_rows(page) == [
        ["OpenAI", "openai/gpt-5.1", "1", "2,000", "1,000", "$0.0125"],
        ["OpenAI", "openai/gpt-5-mini", "3", "4,000", "500", "$0.002"],
        ["Anthropic", "anthropic/claude-haiku-4-5", "1", "100", "100", "$0.0006"],
    ]
    # Stacked bars: one per provider and day with spend, openai (the larger) first.
    bars = _BAR_TITLE.findall(page)
    assert sorted(bars) == [
        ("0", "2026-11-01 · openai: $0.01375"),
        ("0", "2026-11-03 · openai: $0.00075"),
        ("1", "2026-11-01 · anthropic: $0.0006"),
    ]
    assert "style=" not in page.split('<svg class="spend-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'href="/spend" aria-current="page"' in page


async def test_the_default_period_and_refused_periods(admin_ui: UiClient) -> None:
    default = await admin_ui.get("/spend")
    reversed_period = await admin_ui.get(
        "/spend", params={"from": "2026-11-03", "to": "2026-11-01"}
    )
    malformed = await admin_ui.get("/spend", params={"from": "yesterday"})

    assert default.status_code == 200
    assert "No calls recorded in this period." in default.text
    assert reversed_period.status_code == malformed.status_code == 422
    assert "&#39;from&#39; must be on or before &#39;to&#39;." in reversed_period.text
    assert "must be a day as YYYY-MM-DD" in malformed.text
    assert 'value="yesterday"' in malformed.text  # the form keeps what was typed


async def test_signing_in_is_required(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/spend")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/spend")

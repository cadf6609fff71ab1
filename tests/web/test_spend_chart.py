"""The spend chart's geometry: round axis steps, stacked bars that fit, readable day labels."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from modeldesk.runs.spend import DailySpend, Spend
from modeldesk.web.spend_chart import nice_ceiling, spend_chart


def test_nice_ceilings() -> None:
    cases = {"0": "1", "0.0151": "0.02", "0.0023": "0.0025", "3": "5", "7.5": "10", "120": "200"}
    for value, ceiling in cases.items():
        assert nice_ceiling(Decimal(value)) == Decimal(ceiling), value


def test_stacks_fill_the_plot_on_the_highest_day_and_labels_stay_few() -> None:
    start = date(2026, 1, 1)
    days = [
        DailySpend(start, "openai", Decimal("1.5")),
        DailySpend(start, "anthropic", Decimal("0.5")),
        DailySpend(start + timedelta(days=200), "openai", Decimal("1")),
    ]
    spend = Spend(start, start + timedelta(days=365), Decimal(3), days, [], ["openai", "anthropic"])

    chart = spend_chart(spend)

    first_day = [bar for bar in chart.bars if bar.title.startswith("2026-01-01")]
    assert [bar.series for bar in first_day] == [0, 1]  # openai at the bottom, then anthropic
    assert sum(bar.height for bar in first_day) == chart.plot_height  # 2.0 of a 2.0 scale
    assert min(bar.y for bar in first_day) == chart.top
    assert all(bar.y + bar.height <= chart.bottom + 0.01 for bar in chart.bars)
    assert [tick.text for tick in chart.ticks] == [
        "$0.00",
        "$0.40",
        "$0.80",
        "$1.20",
        "$1.60",
        "$2.00",
    ]
    assert len(chart.day_labels) <= 12 and chart.day_labels[0].text == "Jan 01"
    assert [(entry.provider, entry.total) for entry in chart.legend] == [
        ("openai", "$2.50"),
        ("anthropic", "$0.50"),
    ]

"""The geometry of the daily-spend chart: stacked bars, one colour per provider.

Drawn on the server as SVG (`spend/_chart.html`), so the page loads no chart
library and needs no script. The Content-Security-Policy forbids inline
styles, so bars carry only coordinates and a `series-N` class; the colours
are in app.css.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from modeldesk.runs import Spend
from modeldesk.web.rendering import format_usd

WIDTH = 960
HEIGHT = 300
_LEFT = 64  # room for the cost axis labels
_RIGHT = 12
_TOP = 12
_BOTTOM = 28  # room for the day labels
_SERIES_COLOURS = 8  # app.css defines .series-0 ... .series-7
_MAX_DAY_LABELS = 12
# A nice ceiling (1, 2, 2.5 or 5 x 10^k) divides into 5 round steps.
_TICKS = 5


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


@dataclass(frozen=True)
class AxisLabel:
    position: float  # y of a cost tick, x (centre) of a day label
    text: str


@dataclass(frozen=True)
class LegendEntry:
    series: int
    provider: str
    total: str


@dataclass(frozen=True)
class SpendChart:
    width: int
    height: int
    left: float
    top: float
    plot_width: float
    plot_height: float
    bars: list[Bar]
    ticks: list[AxisLabel]
    day_labels: list[AxisLabel]
    legend: list[LegendEntry]

    @property
    def bottom(self) -> float:
        return self.top + self.plot_height


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= value (> 0)."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** math.floor(math.log10(float(value)))
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if step * power >= value:
            return step * power
    return 10 * power


def _day_label(day: date, first: bool) -> str:
    return day.strftime("%b %d") if first or day.day == 1 else day.strftime("%d")


def spend_chart(spend: Spend) -> SpendChart:
    dates = spend.dates
    plot_width = WIDTH - _LEFT - _RIGHT
    plot_height = HEIGHT - _TOP - _BOTTOM
    series = {provider: index % _SERIES_COLOURS for index, provider in enumerate(spend.providers)}
    per_day: dict[date, list[tuple[str, Decimal]]] = {}
    for line in spend.days:
        per_day.setdefault(line.day, []).append((line.provider, line.cost))
    highest = max(
        (sum((cost for _, cost in lines), Decimal(0)) for lines in per_day.values()),
        default=Decimal(0),
    )
    scale_top = nice_ceiling(highest)
    slot = plot_width / len(dates)
    bar_width = max(1.0, slot * 0.72)
    bars: list[Bar] = []
    for index, day in enumerate(dates):
        stacked = 0.0
        lines = sorted(per_day.get(day, []), key=lambda item: series[item[0]])
        for provider, cost in lines:
            height = float(cost / scale_top) * plot_height
            stacked += height
            bars.append(
                Bar(
                    x=round(_LEFT + index * slot + (slot - bar_width) / 2, 2),
                    y=round(_TOP + plot_height - stacked, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    series=series[provider],
                    title=f"{day.isoformat()} · {provider}: {format_usd(cost)}",
                )
            )
    ticks = [
        AxisLabel(
            round(_TOP + plot_height * (1 - n / _TICKS), 2),
            format_usd(scale_top * n / _TICKS),
        )
        for n in range(_TICKS + 1)
    ]
    every = max(1, math.ceil(len(dates) / _MAX_DAY_LABELS))
    day_labels = [
        AxisLabel(round(_LEFT + (index + 0.5) * slot, 2), _day_label(day, index == 0))
        for index, day in enumerate(dates)
        if index % every == 0
    ]
    totals: dict[str, Decimal] = {}
    for line in spend.days:
        totals[line.provider] = totals.get(line.provider, Decimal(0)) + line.cost
    legend = [
        LegendEntry(series[provider], provider, format_usd(totals.get(provider, Decimal(0))))
        for provider in spend.providers
    ]
    return SpendChart(
        width=WIDTH,
        height=HEIGHT,
        left=_LEFT,
        top=_TOP,
        plot_width=plot_width,
        plot_height=plot_height,
        bars=bars,
        ticks=ticks,
        day_labels=day_labels,
        legend=legend,
    )

"""The geometry of a run's scores chart: per model, the mean score and its 95 % interval.

Drawn on the server as SVG (`runs/_scores_chart.html`), like the spend chart:
no chart library, no script, and, as the Content-Security-Policy forbids inline
styles, only coordinates and classes (colours in app.css). One row per target
model: a bar for the interval, a dot at the mean, and the model's cost beside
it, so the page answers "which model is best, and at what price".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from modeldesk.runs import ModelScores
from modeldesk.web.rendering import format_usd

WIDTH = 720
ROW_HEIGHT = 36
_LEFT = 220  # room for the model labels
_RIGHT = 110  # room for the cost per model
_TOP = 8
_BOTTOM = 28  # room for the score axis
_TICKS = 5


@dataclass(frozen=True)
class ScoreRow:
    label: str
    y: float  # the row's centre line
    mean_x: float | None  # None: no scored answer
    low_x: float | None  # None: no interval (fewer than two scores)
    high_x: float | None
    title: str
    cost: str
    leading: bool


@dataclass(frozen=True)
class ScoresChart:
    width: int
    height: int
    left: float
    right: float  # x where the plot ends
    axis_y: float
    rows: list[ScoreRow]
    ticks: list[tuple[float, str]]  # (x, label) of the score axis


def _scale(figures: Sequence[ModelScores]) -> tuple[float, float]:
    """The score axis: from 0 (or the lowest interval end) to a round ceiling above all."""
    values = [
        value
        for line in figures
        for value in (line.mean_score, line.ci_low, line.ci_high)
        if value is not None
    ]
    low = min([0.0, *values])
    high = max([1.0, *values])
    step = 10 ** math.floor(math.log10(high - low))
    return math.floor(low / step) * step, math.ceil(high / step) * step


def _describe(label: str, line: ModelScores) -> str:
    if line.mean_score is None:
        return f"{label}: no scored answers"
    text = f"{label}: mean {line.mean_score:.2f} over {line.scored_count} scored answers"
    if line.ci_low is not None and line.ci_high is not None:
        text += f", 95% interval {line.ci_low:.2f} to {line.ci_high:.2f}"
    return text


def leading_model(figures: Sequence[ModelScores]) -> int | None:
    """The model with the highest mean score, None when none was scored."""
    scored = [line for line in figures if line.mean_score is not None]
    if not scored:
        return None
    return max(scored, key=lambda line: line.mean_score or 0.0).model_id


def scores_chart(
    figures: Sequence[ModelScores], labels: Mapping[int, str], costs: Mapping[int, Decimal]
) -> ScoresChart | None:
    """The chart of these figures; None when no model has a score yet."""
    leader = leading_model(figures)
    if leader is None:
        return None
    low, high = _scale(figures)
    right = WIDTH - _RIGHT

    def x_at(value: float) -> float:
        return round(_LEFT + (value - low) / (high - low) * (right - _LEFT), 1)

    def x_of(value: float | None) -> float | None:
        return None if value is None else x_at(value)

    rows = []
    for index, line in enumerate(figures):
        label = labels.get(line.model_id, f"model #{line.model_id}")
        rows.append(
            ScoreRow(
                label=label,
                y=_TOP + ROW_HEIGHT * index + ROW_HEIGHT / 2,
                mean_x=x_of(line.mean_score),
                low_x=x_of(line.ci_low),
                high_x=x_of(line.ci_high),
                title=_describe(label, line),
                cost=format_usd(costs.get(line.model_id, Decimal(0))),
                leading=line.model_id == leader,
            )
        )
    axis_y = _TOP + ROW_HEIGHT * len(figures)
    values = [low + (high - low) * step / _TICKS for step in range(_TICKS + 1)]
    ticks = [(x_at(value), f"{value:g}") for value in values]
    return ScoresChart(WIDTH, int(axis_y + _BOTTOM), _LEFT, right, axis_y, rows, ticks)

"""Spend over a period: daily cost by provider, and calls, tokens and cost by model.

Everything comes from the transcripts as recorded: their `estimated_cost` was
priced with the price version in force at each call, so a price edited later
changes no figure here. Both groupings come from one statement (GROUPING
SETS), so the chart and the table always add up to the same total. Days are
UTC calendar days of when the transcript was recorded; `end` is included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from modeldesk.db.session import Database
from modeldesk.errors import ValidationError
from modeldesk.runs.driver_connection import driver_connection

DEFAULT_SPEND_DAYS = 30
MAX_SPEND_DAYS = 366

_DAY = "(t.created_at AT TIME ZONE 'UTC')::date"
# by_model is 0 on (day, provider) rows and 1 on (provider, model) rows.
_SPEND = f"""
SELECT 1 - GROUPING(m.id) AS by_model, {_DAY} AS day,
       p.name AS provider, p.display_name AS provider_display_name,
       m.model_id, m.display_name AS model_display_name,
       count(*) AS calls, sum(t.input_tokens) AS input_tokens,
       sum(t.output_tokens) AS output_tokens, sum(t.estimated_cost) AS cost
FROM transcripts t
JOIN llm_models m ON m.id = t.model_id
JOIN llm_providers p ON p.id = m.provider_id
WHERE t.created_at >= $1 AND t.created_at <= $2
GROUP BY GROUPING SETS (
    ({_DAY}, p.name, p.display_name),
    (p.name, p.display_name, m.id, m.model_id, m.display_name)
)
"""


@dataclass(frozen=True)
class DailySpend:
    day: date
    provider: str
    cost: Decimal


@dataclass(frozen=True)
class ModelSpend:
    provider: str
    provider_display_name: str
    model_id: str
    model_display_name: str
    calls: int  # transcripts recorded, failed calls included (their cost is 0)
    input_tokens: int
    output_tokens: int
    cost: Decimal


@dataclass(frozen=True)
class Spend:
    start: date
    end: date
    total: Decimal
    days: list[DailySpend]  # by day, then provider name; days without spend left out
    models: list[ModelSpend]  # most expensive first
    # Provider names with spend in the period, most expensive first (the chart's series).
    providers: list[str]

    @property
    def dates(self) -> list[date]:
        """Every day of the period, spend or not, in order."""
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def spend_period(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """The period asked for, defaults filled in: the last 30 days up to `today`, or up to `end`."""
    end = end or today
    try:
        start = start or end - timedelta(days=DEFAULT_SPEND_DAYS - 1)
    except OverflowError:
        raise ValidationError("'to' is too early for a 30-day period.", field="to") from None
    if start > end:
        raise ValidationError("'from' must be on or before 'to'.", field="from")
    if (end - start).days + 1 > MAX_SPEND_DAYS:
        raise ValidationError(f"A period is at most {MAX_SPEND_DAYS} days.", field="from")
    return start, end


def parse_spend_day(value: str | None, field: str) -> date | None:
    """A day typed in a form (YYYY-MM-DD); blank means the default."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"'{field}' must be a day as YYYY-MM-DD.", field=field) from None


def today_utc() -> date:
    return datetime.now(UTC).date()


async def read_spend(db: Database, start: date | None = None, end: date | None = None) -> Spend:
    """Spend from `start` to `end` (both included; see `spend_period` for defaults)."""
    start, end = spend_period(start, end, today=today_utc())
    since = datetime.combine(start, time.min, UTC)
    until = datetime.combine(end, time.max, UTC)  # inclusive; end + 1 day may not exist
    async with driver_connection(db) as connection:
        rows = await connection.fetch(_SPEND, since, until)
    days: list[DailySpend] = []
    models: list[ModelSpend] = []
    for row in rows:
        if row["by_model"]:
            models.append(
                ModelSpend(
                    provider=row["provider"],
                    provider_display_name=row["provider_display_name"],
                    model_id=row["model_id"],
                    model_display_name=row["model_display_name"],
                    calls=row["calls"],
                    input_tokens=row["input_tokens"],
                    output_tokens=row["output_tokens"],
                    cost=row["cost"],
                )
            )
        else:
            days.append(DailySpend(row["day"], row["provider"], row["cost"]))
    days.sort(key=lambda line: (line.day, line.provider))
    models.sort(key=lambda line: (-line.cost, line.provider, line.model_id))
    by_provider: dict[str, Decimal] = {}
    for line in models:
        by_provider[line.provider] = by_provider.get(line.provider, Decimal(0)) + line.cost
    providers = sorted(by_provider, key=lambda name: (-by_provider[name], name))
    total = sum((line.cost for line in models), Decimal(0))
    return Spend(start, end, total, days, models, providers)

"""`spend(from, to)`: the figures of the `/spend` page, from the same service call.

Any signed-in user may read them (admins and viewers alike), as every read.
Costs are exact decimals in the service and become JSON numbers only here.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from modeldesk.api.context import Info
from modeldesk.api.fields import described
from modeldesk.runs import DailySpend, ModelSpend, Spend, read_spend


@strawberry.type(name="SpendDay", description="One provider's spend on one UTC day.")
class SpendDayType:
    day: date = strawberry.field(name="date")
    provider: str = strawberry.field(description="The provider's name, e.g. openai.")
    cost: float

    @classmethod
    def from_line(cls, line: DailySpend) -> SpendDayType:
        return cls(day=line.day, provider=line.provider, cost=float(line.cost))


@strawberry.type(name="SpendModel", description="One model's calls, tokens and cost.")
class SpendModelType:
    provider: str
    model_id: str
    display_name: str
    calls: int = strawberry.field(description="Transcripts recorded, failed calls included.")
    input_tokens: int
    output_tokens: int
    cost: float

    @classmethod
    def from_line(cls, line: ModelSpend) -> SpendModelType:
        return cls(
            provider=line.provider,
            model_id=line.model_id,
            display_name=line.model_display_name,
            calls=line.calls,
            input_tokens=line.input_tokens,
            output_tokens=line.output_tokens,
            cost=float(line.cost),
        )


@strawberry.type(name="Spend", description="Spend over a period, from the transcripts' costs.")
class SpendType:
    from_: date = strawberry.field(name="from", description="First day, included (UTC).")
    to: date = strawberry.field(description="Last day, included (UTC).")
    total: float
    days: list[SpendDayType] = strawberry.field(
        description="By day, then provider; days without spend are left out."
    )
    models: list[SpendModelType] = strawberry.field(description="Most expensive first.")

    @classmethod
    def from_spend(cls, spend: Spend) -> SpendType:
        return cls(
            from_=spend.start,
            to=spend.end,
            total=float(spend.total),
            days=[SpendDayType.from_line(line) for line in spend.days],
            models=[SpendModelType.from_line(line) for line in spend.models],
        )


@strawberry.type
class SpendQuery:
    @described(
        "Daily spend by provider and spend by model between two UTC days, both included "
        "(default: the last 30 days). A period is at most 366 days."
    )
    async def spend(
        self,
        info: Info,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> SpendType:
        return SpendType.from_spend(await read_spend(info.context.db, from_, to))

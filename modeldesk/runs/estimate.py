"""Pricing a run before it is created.

Per model and per probe: current prices x expected tokens, by the very rule
calls are charged by (`llm.price_usage`: cache reads and writes at their
prices, the long-context tier when a probe's prompt passes its threshold).
Expected tokens come from the average of the model's earlier successful
transcripts (basis HISTORY, cache reads and writes included) or, without any,
from a stated rule (basis FALLBACK): prompt length / 4 input tokens and 500
output tokens per probe. A model with no recorded price is priced at its
provider's defaults (else the configured fallback) and flagged `unpriced`,
exactly as its calls would be charged: never a silent $0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Numeric, SQLColumnExpression, cast, select

from modeldesk.catalog import quote_of
from modeldesk.config import Settings
from modeldesk.db.run_tables import Scenario
from modeldesk.db.session import Database
from modeldesk.db.total_tables import ModelUsageTotals
from modeldesk.errors import ValidationError
from modeldesk.llm import PriceQuote, Usage, charged_rates, fallback_quote, price_usage
from modeldesk.runs.definitions import get_definition, scenarios_by_definition_ids
from modeldesk.runs.inputs import clean_sample_percentage
from modeldesk.runs.model_selection import TargetModel, check_model_count, select_models
from modeldesk.runs.sampling import sample_scenarios
from modeldesk.runs.summary_estimate import estimate_summaries_cost

CHARS_PER_TOKEN = 4
FALLBACK_OUTPUT_TOKENS = 500
FALLBACK_RULE = (
    f"no earlier transcripts: prompt length / {CHARS_PER_TOKEN} input tokens and "
    f"{FALLBACK_OUTPUT_TOKENS} output tokens per probe"
)

Basis = Literal["HISTORY", "FALLBACK"]


@dataclass(frozen=True)
class ModelEstimate:
    target: TargetModel
    probe_count: int
    input_tokens: int
    output_tokens: int
    # The base rates (a prompt under any long-context threshold); `cost` applies the tier too.
    input_price: Decimal
    output_price: Decimal
    cost: Decimal
    basis: Basis
    # What the basis rests on, in words, e.g. "average of 12 earlier transcripts".
    basis_detail: str
    unpriced: bool


@dataclass(frozen=True)
class RunEstimate:
    definition_id: int
    scenario_count: int
    per_model: list[ModelEstimate]
    # Judging every answer when the run summarizes (`summary_estimate`).
    infrastructure_cost: Decimal = Decimal(0)

    @property
    def total_cost(self) -> Decimal:
        probes = sum((m.cost for m in self.per_model), Decimal(0))
        return probes + self.infrastructure_cost

    @property
    def unpriced(self) -> bool:
        return any(m.unpriced for m in self.per_model)


@dataclass(frozen=True)
class _History:
    transcripts: int
    avg_input: int
    avg_output: int
    avg_cached: int
    avg_cache_write: int

    @property
    def usage(self) -> Usage:
        """One probe's expected usage; rounded averages, so the parts are clamped to the whole."""
        cached = min(self.avg_cached, self.avg_input)
        cache_write = min(self.avg_cache_write, self.avg_input - cached)
        return Usage(
            input_tokens=self.avg_input,
            output_tokens=self.avg_output,
            cached_input_tokens=cached,
            cache_creation_input_tokens=cache_write,
        )


def _average(
    total: SQLColumnExpression[int], count: SQLColumnExpression[int]
) -> ColumnElement[Decimal | float]:
    """An exact mean (numeric, not integer, division), rounded by the caller like avg()."""
    return cast(total, Numeric) / count


async def _history(db: Database, model_ids: Sequence[int]) -> dict[int, _History]:
    """Average tokens of each model's earlier successful transcripts, in one query.

    From the running sums per model (`total_tables`): one row per model, however
    long its history (SPEC 9.7).
    """
    u = ModelUsageTotals
    async with db.session() as session:
        rows = await session.execute(
            select(
                u.model_id,
                u.succeeded,
                _average(u.input_tokens, u.succeeded),
                _average(u.output_tokens, u.succeeded),
                _average(u.cached_input_tokens, u.succeeded),
                _average(u.cache_write_tokens, u.succeeded),
            ).where(u.model_id.in_(model_ids), u.succeeded > 0)
        )
        return {
            model_id: _History(
                count, round(avg_in), round(avg_out), round(avg_cached), round(avg_write)
            )
            for model_id, count, avg_in, avg_out, avg_cached, avg_write in rows
        }


def _prices(target: TargetModel, settings: Settings) -> tuple[PriceQuote, PriceQuote]:
    """The model's current prices, and the fallback a call would be charged without them."""
    provider = target.provider
    fallback = fallback_quote(provider.default_input_price, provider.default_output_price, settings)
    return quote_of(target.model), fallback


def fallback_usage(preamble: str | None, prompt: str) -> Usage:
    """One probe's expected usage by the stated rule (`FALLBACK_RULE`); a capped run's
    calls reserve by it too (`budget`)."""
    return Usage(
        input_tokens=math.ceil((len(preamble or "") + len(prompt)) / CHARS_PER_TOKEN),
        output_tokens=FALLBACK_OUTPUT_TOKENS,
    )


def _fallback_usages(preamble: str | None, scenarios: Sequence[Scenario]) -> list[Usage]:
    """Each probe's expected usage by the stated rule, one per scenario."""
    return [fallback_usage(preamble, s.text) for s in scenarios]


async def estimate_run_cost(
    db: Database,
    definition_id: int,
    models: Sequence[str] | None = None,
    sample_percentage: Any = None,
    *,
    settings: Settings,
    summarize: bool | None = None,
) -> RunEstimate:
    """What `create_run` with the same arguments would cost, per model and in total.

    Refuses the same models `create_run` refuses, with the same error. A run
    that summarizes (by default, one of a definition with a rubric) includes
    the judge's calls.
    """
    check_model_count(models)
    percentage = clean_sample_percentage(sample_percentage)
    definition = await get_definition(db, definition_id)
    async with db.session() as session:
        targets = await select_models(session, models, lock=False)
    current = (await scenarios_by_definition_ids(db, [definition_id]))[definition_id]
    if not current:
        raise ValidationError(
            f"Definition {definition_id} has no scenarios; add or expand some first.",
            field="definitionId",
        )
    sampled = sample_scenarios(current, percentage)
    probes = len(sampled)
    history = await _history(db, [t.model.id for t in targets])
    estimates = []
    judged: list[Usage] = []
    for target in targets:
        past = history.get(target.model.id)
        if past is not None:
            usages = [past.usage] * probes
            basis: Basis = "HISTORY"
            detail = f"average of {past.transcripts} earlier transcripts of this model"
        else:
            usages = _fallback_usages(definition.preamble, sampled)
            basis, detail = "FALLBACK", FALLBACK_RULE
        prices, fallback = _prices(target, settings)
        cost = sum((price_usage(usage, prices, fallback)[1] for usage in usages), Decimal(0))
        judged += usages
        # The rates of a prompt below any long-context threshold: the model's base prices.
        base = charged_rates(prices, fallback, 0)
        estimates.append(
            ModelEstimate(
                target=target,
                probe_count=probes,
                input_tokens=sum(usage.input_tokens for usage in usages),
                output_tokens=sum(usage.output_tokens for usage in usages),
                input_price=base.input_per_million,
                output_price=base.output_per_million,
                cost=cost,
                basis=basis,
                basis_detail=detail,
                unpriced=base.unpriced,
            )
        )
    if summarize is None:
        summarize = definition.rubric is not None
    infrastructure = Decimal(0)
    if summarize:
        infrastructure = await estimate_summaries_cost(
            db, settings, rubric=definition.rubric, probe_usages=judged
        )
    return RunEstimate(definition_id, probes, estimates, infrastructure)

"""Pricing a run before it is created.

Per model: current prices x expected tokens. Expected tokens come from the
average of the model's earlier successful transcripts (basis HISTORY) or,
without any, from a stated rule (basis FALLBACK): prompt length / 4 input
tokens and 500 output tokens per probe. A model with no recorded price is
priced at its provider's defaults (else the configured fallback) and flagged
`unpriced`, exactly as its calls would be charged: never a silent $0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import func, select

from modeldesk.config import Settings
from modeldesk.db.run_tables import Scenario, Transcript
from modeldesk.db.session import Database
from modeldesk.errors import ValidationError
from modeldesk.llm import PriceQuote, charged_prices, compute_cost, fallback_quote
from modeldesk.runs.definitions import get_definition, scenarios_by_definition_ids
from modeldesk.runs.inputs import clean_sample_percentage
from modeldesk.runs.model_selection import TargetModel, select_models
from modeldesk.runs.sampling import sample_scenarios

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

    @property
    def total_cost(self) -> Decimal:
        return sum((m.cost for m in self.per_model), Decimal(0))

    @property
    def unpriced(self) -> bool:
        return any(m.unpriced for m in self.per_model)


@dataclass(frozen=True)
class _History:
    transcripts: int
    avg_input: int
    avg_output: int


async def _history(db: Database, model_ids: Sequence[int]) -> dict[int, _History]:
    """Average tokens of each model's earlier successful transcripts, in one query."""
    async with db.session() as session:
        rows = await session.execute(
            select(
                Transcript.model_id,
                func.count(),
                func.avg(Transcript.input_tokens),
                func.avg(Transcript.output_tokens),
            )
            .where(Transcript.model_id.in_(model_ids), Transcript.status == "SUCCEEDED")
            .group_by(Transcript.model_id)
        )
        return {
            model_id: _History(count, round(avg_in), round(avg_out))
            for model_id, count, avg_in, avg_out in rows
        }


def _prices(target: TargetModel, settings: Settings) -> tuple[Decimal, Decimal, bool]:
    """Current input and output prices, with the same fallbacks a call would be charged."""
    model, provider = target.model, target.provider
    return charged_prices(
        PriceQuote(model.cost_input_per_million, model.cost_output_per_million),
        fallback_quote(provider.default_input_price, provider.default_output_price, settings),
    )


def _fallback_input_tokens(preamble: str | None, scenarios: Sequence[Scenario]) -> int:
    prefix = len(preamble or "")
    return sum(math.ceil((prefix + len(s.text)) / CHARS_PER_TOKEN) for s in scenarios)


async def estimate_run_cost(
    db: Database,
    definition_id: int,
    models: Sequence[str] | None = None,
    sample_percentage: Any = None,
    *,
    settings: Settings,
) -> RunEstimate:
    """What `create_run` with the same arguments would cost, per model and in total.

    Refuses the same models `create_run` refuses, with the same error.
    """
    percentage = clean_sample_percentage(sample_percentage)
    definition = await get_definition(db, definition_id)
    targets = await select_models(db, models)
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
    for target in targets:
        past = history.get(target.model.id)
        if past is not None:
            tokens_in, tokens_out = past.avg_input * probes, past.avg_output * probes
            basis: Basis = "HISTORY"
            detail = f"average of {past.transcripts} earlier transcripts of this model"
        else:
            tokens_in = _fallback_input_tokens(definition.preamble, sampled)
            tokens_out = FALLBACK_OUTPUT_TOKENS * probes
            basis, detail = "FALLBACK", FALLBACK_RULE
        input_price, output_price, unpriced = _prices(target, settings)
        cost = compute_cost(
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            input_price=input_price,
            output_price=output_price,
        )
        estimates.append(
            ModelEstimate(
                target=target,
                probe_count=probes,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                input_price=input_price,
                output_price=output_price,
                cost=cost,
                basis=basis,
                basis_detail=detail,
                unpriced=unpriced,
            )
        )
    return RunEstimate(definition_id, probes, estimates)

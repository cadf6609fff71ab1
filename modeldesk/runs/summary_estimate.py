"""The expected cost of judging a run's answers, for the pre-run estimate (SPEC 9.5).

One judge call per probe, at the summarization model's current prices (the
model `resolve_infra_model` would pick now). Its tokens are the average of
the judge's earlier calls; without any, the stated rule: the probe's own
expected input and output (the judge reads the scenario and the answer) plus
the rubric, at `CHARS_PER_TOKEN`, and `JUDGE_OUTPUT_TOKENS` out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select

from modeldesk.catalog import quote_of, resolve_infra_model
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.summary_tables import TranscriptSummary
from modeldesk.errors import ModeldeskError
from modeldesk.llm import Usage, fallback_quote, price_usage

logger = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
JUDGE_OUTPUT_TOKENS = 60
# The judge's instructions around the scenario, the answer and the rubric.
JUDGE_PROMPT_TOKENS = 150


async def _judge_history(db: Database, model_pk: int) -> Usage | None:
    s = TranscriptSummary
    async with db.session() as session:
        row = (
            await session.execute(
                select(func.count(), func.avg(s.input_tokens), func.avg(s.output_tokens)).where(
                    s.judge_model_id == model_pk, s.input_tokens > 0
                )
            )
        ).one()
    count, avg_in, avg_out = row
    if not count:
        return None
    return Usage(input_tokens=round(avg_in), output_tokens=round(avg_out))


async def estimate_summaries_cost(
    db: Database,
    settings: Settings,
    *,
    rubric: str | None,
    probe_usages: Sequence[Usage],
) -> Decimal:
    """What judging the answers of these probes is expected to cost; 0 when no model can."""
    if not probe_usages:
        return Decimal(0)
    try:
        judge = await resolve_infra_model(db, "summarization")
    except ModeldeskError as error:
        logger.warning("estimate: no summarization model (%s); judging not priced", error.message)
        return Decimal(0)
    prices = quote_of(judge.model)
    fallback = fallback_quote(
        judge.provider.default_input_price, judge.provider.default_output_price, settings
    )
    past = await _judge_history(db, judge.model.id)
    rubric_tokens = len(rubric or "") // CHARS_PER_TOKEN
    total = Decimal(0)
    for probe in probe_usages:
        usage = past or Usage(
            input_tokens=probe.input_tokens
            + probe.output_tokens
            + rubric_tokens
            + JUDGE_PROMPT_TOKENS,
            output_tokens=JUDGE_OUTPUT_TOKENS,
        )
        total += price_usage(usage, prices, fallback)[1]
    return total

"""Transcripts recorded at chosen times with chosen costs, for spend tests and benchmarks.

Spend is read from transcripts, and a test of it needs transcripts on known
days with known figures, which no real call gives. The definition, run and
probes are made by the real services; only the transcripts are written
directly, each on a probe of its model, as the worker would have written them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth.principal import Principal
from modeldesk.db.run_tables import Probe, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import TranscriptStatus
from modeldesk.runs.creation import create_run
from modeldesk.runs.definitions import create_definition


@dataclass(frozen=True)
class RecordedCall:
    model: str  # "provider/model_id"
    at: datetime
    input_tokens: int
    output_tokens: int
    cost: Decimal
    failed: bool = False


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Seed models, 1-3 November 2026 (UTC), with one call just outside each end.
# By hand, for from=2026-11-01 to=2026-11-03:
#   days:   11-01 anthropic 0.0006, 11-01 openai 0.01375, 11-03 openai 0.00075
#   models: openai/gpt-5.1 1 call, 2000 in, 1000 out, 0.0125
#           openai/gpt-5-mini 3 calls (one failed), 4000 in, 500 out, 0.002
#           anthropic/claude-haiku-4-5 1 call, 100 in, 100 out, 0.0006
#   total:  0.0151
SAMPLE_PERIOD = (date(2026, 11, 1), date(2026, 11, 3))
SAMPLE_CALLS = (
    RecordedCall("openai/gpt-5-mini", _utc("2026-11-01T10:00:00"), 1000, 500, Decimal("0.00125")),
    RecordedCall("openai/gpt-5.1", _utc("2026-11-01T23:59:59"), 2000, 1000, Decimal("0.0125")),
    RecordedCall(
        "anthropic/claude-haiku-4-5", _utc("2026-11-01T12:00:00"), 100, 100, Decimal("0.0006")
    ),
    RecordedCall("openai/gpt-5-mini", _utc("2026-11-03T00:00:00"), 3000, 0, Decimal("0.00075")),
    RecordedCall("openai/gpt-5-mini", _utc("2026-11-03T08:00:00"), 0, 0, Decimal(0), failed=True),
    RecordedCall("openai/gpt-5-mini", _utc("2026-10-31T23:59:59"), 10, 10, Decimal("1")),
    RecordedCall("anthropic/claude-haiku-4-5", _utc("2026-11-04T00:00:00"), 10, 10, Decimal("2")),
)


async def record_calls(db: Database, actor: Principal, calls: Sequence[RecordedCall]) -> int:
    """One run holding a transcript per call, recorded at `call.at`; returns the run's id."""
    per_model = Counter(call.model for call in calls)
    definition = await create_definition(
        db,
        actor,
        name=f"{len(calls)} recorded calls",
        template="A recorded question.",
        scenarios=[f"Recorded question {n}?" for n in range(max(per_model.values()))],
    )
    run = await create_run(db, actor, definition.id, sorted(per_model))
    async with db.transaction() as session:
        probes = (
            await session.scalars(select(Probe).where(Probe.run_id == run.id).order_by(Probe.id))
        ).all()
        free: dict[int, list[Probe]] = defaultdict(list)
        for probe in probes:
            free[probe.model_id].append(probe)
        model_pks = await _model_pks(session, list(per_model))
        for call in calls:
            probe = free[model_pks[call.model]].pop(0)
            await session.execute(
                insert(Transcript).values(
                    run_id=run.id,
                    scenario_id=probe.scenario_id,
                    model_id=probe.model_id,
                    probe_id=probe.id,
                    status=TranscriptStatus.FAILED if call.failed else TranscriptStatus.SUCCEEDED,
                    error_code="PROVIDER_ERROR" if call.failed else None,
                    response=None if call.failed else "recorded answer",
                    input_tokens=call.input_tokens,
                    output_tokens=call.output_tokens,
                    estimated_cost=call.cost,
                    created_at=call.at,
                )
            )
    return run.id


async def _model_pks(session: AsyncSession, refs: list[str]) -> dict[str, int]:
    """The database id of each "provider/model_id"."""
    rows = await session.execute(
        select(LlmProvider.name, LlmModel.model_id, LlmModel.id).join(
            LlmProvider, LlmProvider.id == LlmModel.provider_id
        )
    )
    known = {f"{provider}/{model}": pk for provider, model, pk in rows}
    return {ref: known[ref] for ref in refs}

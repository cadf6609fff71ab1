"""The probe step's database side: claim a probe, record its outcome, move the run.

Lock order is always probe row, then run row (`cancel_run` follows it too), so
workers and a cancel never deadlock. Each outcome is one transaction: the
transcript (INSERT ... ON CONFLICT DO NOTHING on the unique run, scenario and
model), the probe's final state and the run's progress move together, and a
re-delivered job finds the transcript there and moves nothing twice.

This is the hot path of every probe, so it speaks Core SQL (no ORM entities)
and records an outcome in a single statement: one round trip per transaction
step, which is what lets a worker keep up with an instant provider.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, case, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.catalog import price_version_in_force
from modeldesk.config import Settings
from modeldesk.db.run_tables import Definition, Probe, Run, Scenario, Transcript
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.errors import NotFoundError
from modeldesk.llm import CostSnapshot, PriceQuote, RetryState

logger = logging.getLogger(__name__)

FINISHED_PROBE_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
ACTIVE_RUN_STATUSES = ("PENDING", "RUNNING")


@dataclass(frozen=True)
class ClaimedProbe:
    """Everything the call needs, read in the claim's transaction."""

    probe_id: int
    run_id: int
    scenario_id: int
    model_pk: int
    provider_id: int
    provider_name: str
    api_style: str
    base_url: str | None
    api_key_env: str | None
    model_id: str
    prompt: str
    preamble: str | None
    retry_state: RetryState
    prices: PriceQuote
    fallback_prices: PriceQuote

    @property
    def label(self) -> str:
        return f"probe {self.probe_id} (run {self.run_id}, {self.provider_name}/{self.model_id})"


@dataclass(frozen=True)
class Skipped:
    """The probe needs no call: already finished, or its run is no longer active."""

    provider_id: int
    reason: str


# Core tables: statements on them skip the ORM's per-row bookkeeping.
_PROBES = cast(Table, Probe.__table__)
_RUNS = cast(Table, Run.__table__)
_TRANSCRIPTS = cast(Table, Transcript.__table__)


async def _prices(session: AsyncSession, model_pk: int, own: PriceQuote) -> PriceQuote:
    """The price version in force now, i.e. at call time; the model's own prices if none."""
    version = await price_version_in_force(session, model_pk)
    if version is None:
        return own
    return PriceQuote(
        version.cost_input_per_million,
        version.cost_output_per_million,
        version.cost_cached_input_per_million,
        price_version_id=version.id,
    )


def _fallback(
    default_input: Decimal | None, default_output: Decimal | None, settings: Settings
) -> PriceQuote:
    """The provider's default prices, else the configured fallback (used only when unpriced)."""
    return PriceQuote(
        settings.fallback_input_price if default_input is None else default_input,
        settings.fallback_output_price if default_output is None else default_output,
    )


_CLAIM_COLUMNS = (
    Probe.state,
    Probe.run_id,
    Probe.scenario_id,
    Probe.model_id,
    Probe.rate_limit_retries,
    Probe.transient_retries,
    Run.status.label("run_status"),
    LlmProvider.id.label("provider_id"),
    LlmProvider.name.label("provider_name"),
    LlmProvider.api_style,
    LlmProvider.base_url,
    LlmProvider.api_key_env,
    LlmProvider.default_input_price,
    LlmProvider.default_output_price,
    LlmModel.model_id.label("model_name"),
    LlmModel.cost_input_per_million,
    LlmModel.cost_output_per_million,
    LlmModel.cost_cached_input_per_million,
    Scenario.text.label("prompt"),
    Definition.preamble,
)


async def claim_probe(db: Database, settings: Settings, probe_id: int) -> ClaimedProbe | Skipped:
    """Mark the probe RUNNING (and its run RUNNING) and load what the call needs."""
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(*_CLAIM_COLUMNS)
                .join(Run, Run.id == Probe.run_id)
                .join(LlmModel, LlmModel.id == Probe.model_id)
                .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
                .join(Scenario, Scenario.id == Probe.scenario_id)
                .join(Definition, Definition.id == Run.definition_id)
                .where(Probe.id == probe_id)
                .with_for_update(of=Probe)
            )
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"No probe with id {probe_id}.")
        if row.state in FINISHED_PROBE_STATES:
            return Skipped(row.provider_id, f"already {row.state}")
        if row.run_status not in ACTIVE_RUN_STATUSES:
            await _set_probe(session, probe_id, state="CANCELLED", finished_at=func.now())
            return Skipped(row.provider_id, f"run {row.run_id} is {row.run_status}")
        await _set_probe(
            session,
            probe_id,
            state="RUNNING",
            attempts=_PROBES.c.attempts + 1,
            started_at=func.coalesce(_PROBES.c.started_at, func.now()),
        )
        if row.run_status == "PENDING":
            await session.execute(
                update(_RUNS)
                .where(_RUNS.c.id == row.run_id, _RUNS.c.status == "PENDING")
                .values(status="RUNNING", started_at=func.now())
            )
        own_prices = PriceQuote(
            row.cost_input_per_million,
            row.cost_output_per_million,
            row.cost_cached_input_per_million,
        )
        return ClaimedProbe(
            probe_id=probe_id,
            run_id=row.run_id,
            scenario_id=row.scenario_id,
            model_pk=row.model_id,
            provider_id=row.provider_id,
            provider_name=row.provider_name,
            api_style=row.api_style,
            base_url=row.base_url,
            api_key_env=row.api_key_env,
            model_id=row.model_name,
            prompt=row.prompt,
            preamble=row.preamble,
            retry_state=RetryState(row.rate_limit_retries, row.transient_retries),
            prices=await _prices(session, row.model_id, own_prices),
            fallback_prices=_fallback(row.default_input_price, row.default_output_price, settings),
        )


async def _set_probe(session: AsyncSession, probe_id: int, **values: Any) -> None:
    await session.execute(update(_PROBES).where(_PROBES.c.id == probe_id).values(**values))


def _progress_values(*, succeeded: bool) -> dict[str, Any]:
    """Move the run's progress by one; the last probe finishes the run.

    A run whose every probe failed is FAILED, otherwise COMPLETED; a cancelled
    run keeps its status while its in-flight calls are still counted.
    """
    runs = _RUNS.c
    finishing = runs.status.in_(ACTIVE_RUN_STATUSES) & (
        runs.completed + runs.failed + 1 >= runs.total
    )
    if succeeded:
        counter: dict[str, Any] = {"completed": runs.completed + 1}
        final_status: Any = "COMPLETED"
    else:
        counter = {"failed": runs.failed + 1}
        final_status = case((runs.completed > 0, "COMPLETED"), else_="FAILED")
    return {
        **counter,
        "status": case((finishing, final_status), else_=runs.status),
        "finished_at": case((finishing, func.now()), else_=runs.finished_at),
    }


async def _record(
    db: Database,
    claimed: ClaimedProbe,
    transcript: dict[str, Any],
    *,
    code: str | None = None,
    message: str | None = None,
    retryable: bool | None = None,
) -> bool:
    """Transcript, final probe state and progress in one statement; False if already there.

    The probe and run updates are conditioned on the transcript's insert, so a
    re-delivered job whose transcript exists changes nothing at all.
    """
    succeeded = code is None
    state = "SUCCEEDED" if succeeded else "FAILED"
    inserted = (
        insert(_TRANSCRIPTS)
        .values(
            run_id=claimed.run_id,
            scenario_id=claimed.scenario_id,
            model_id=claimed.model_pk,
            probe_id=claimed.probe_id,
            status=state,
            error_code=code,
            **transcript,
        )
        # Any unique key: (run, scenario, model) and probe_id name the same
        # transcript, and a concurrent duplicate may hit either one first.
        .on_conflict_do_nothing()
        .returning(_TRANSCRIPTS.c.id)
        .cte("inserted")
    )
    happened = exists(select(inserted.c.id))
    probe_done = (
        update(_PROBES)
        .where(_PROBES.c.id == claimed.probe_id, happened)
        .values(
            state=state,
            finished_at=func.now(),
            error_code=code,
            error_message=message,
            retryable=retryable,
        )
        .returning(_PROBES.c.id)
        .cte("probe_done")
    )
    run_moved = (
        update(_RUNS)
        .where(_RUNS.c.id == claimed.run_id, happened)
        .values(**_progress_values(succeeded=succeeded))
        .returning(_RUNS.c.id)
        .cte("run_moved")
    )
    statement = select(func.count()).select_from(inserted).add_cte(probe_done, run_moved)
    async with db.transaction() as session:
        count = await session.scalar(statement)
    return bool(count)


async def record_success(
    db: Database,
    claimed: ClaimedProbe,
    *,
    response: str,
    snapshot: CostSnapshot,
    duration_ms: float,
) -> bool:
    """Write the transcript and count it; False when it was already recorded."""
    return await _record(
        db,
        claimed,
        {
            "response": response,
            "input_tokens": snapshot.input_tokens,
            "output_tokens": snapshot.output_tokens,
            "cached_input_tokens": snapshot.cached_input_tokens,
            "reasoning_tokens": snapshot.reasoning_tokens,
            "estimated_cost": snapshot.cost,
            "cost_snapshot": snapshot.to_json(),
            "unpriced": snapshot.unpriced,
            "duration_ms": round(duration_ms),
        },
    )


async def record_failure(
    db: Database, claimed: ClaimedProbe, *, code: str, message: str, retryable: bool
) -> bool:
    """Record a final failure as a FAILED transcript and count it; False if already recorded."""
    return await _record(
        db,
        claimed,
        {"estimated_cost": Decimal(0)},
        code=code,
        message=message,
        retryable=retryable,
    )


async def record_retry(
    db: Database, claimed: ClaimedProbe, state: RetryState, *, code: str, message: str
) -> bool:
    """Put the probe back to PENDING with its grown counters; False if its run was cancelled.

    A probe whose run was cancelled during the call is CANCELLED instead, so it
    is never called again.
    """
    async with db.transaction() as session:
        run_status = await session.scalar(
            select(_RUNS.c.status).where(_RUNS.c.id == claimed.run_id)
        )
        if run_status not in ACTIVE_RUN_STATUSES:
            await _set_probe(session, claimed.probe_id, state="CANCELLED", finished_at=func.now())
            return False
        await _set_probe(
            session,
            claimed.probe_id,
            state="PENDING",
            rate_limit_retries=state.rate_limit_retries,
            transient_retries=state.transient_retries,
            error_code=code,
            error_message=message,
            retryable=True,
        )
    return True

"""The probe step's database side: claim a probe, record its outcome, move the run.

This is the hot path of every probe, so each step is ONE statement (its SQL is
in `probe_sql`) run as its own implicit transaction on a bare asyncpg
connection (see `driver_connection`): one round trip, and row locks held only
while PostgreSQL executes and commits it, never across a turn of a busy
worker's event loop. A step run for a queue job (`QueueJob`) also folds the
provider's admission into the claim, and the job's end into the record.

- Claim: lock the probe, check it and its run, mark it RUNNING (its run
  RUNNING if it was PENDING), and read everything the call needs: scenario,
  preamble, model, provider and the price version in force now, i.e. at call
  time. A probe of a PAUSED or BUDGET_EXCEEDED run is left PENDING (it waits
  for the resume, or is skipped by `budget`); of any other run, CANCELLED.
  A capped run's call then reserves its expected cost (`budget`).
- Record: the transcript (INSERT ... ON CONFLICT DO NOTHING on the unique run,
  scenario and model), the probe's final state, a failed attempt, the run's
  progress and its spent cost (the call's reservation released) move
  together, each conditioned on the insert, so a re-delivered job whose
  transcript exists changes nothing at all. The run row is updated by every
  result, but its lock lasts only the statement's own execution and commit,
  and the counters stay exact: a blocked UPDATE re-reads the row's newest
  version, so whichever result comes last sees every other one and finishes
  the run.

Lock order is always probe row, then run row (`cancel_run` follows it too), so
workers and a cancel never deadlock.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from modeldesk.catalog import quote_from_columns
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.tables import PRICE_COLUMNS
from modeldesk.enums import FINISHED_PROBE_STATES, ProbeState, TranscriptStatus
from modeldesk.errors import NotFoundError
from modeldesk.llm import CostSnapshot, PriceQuote, RetryState, fallback_quote
from modeldesk.runs.driver_connection import driver_connection
from modeldesk.runs.probe_sql import (
    ADMIT_AND_CLAIM_SQL,
    CLAIM_SQL,
    INTERNAL_ERROR_SQL,
    RECORD_SQL,
    RETRY_SQL,
)

logger = logging.getLogger(__name__)


@dataclass
class QueueJob:
    """The queue job a probe step runs for, when it runs for one.

    The claim then passes the provider's admission in the same round trip, and
    the record ends the job in the same transaction when nothing follows it
    (`finished`: the queue has nothing left to write for it).
    """

    job_id: int
    provider_id: int
    finished: bool = False


@dataclass(frozen=True)
class NotAdmitted:
    """The provider may not take the call now: the probe was left untouched."""

    provider_id: int
    reason: str  # disabled, held or rate_window (see `modeldesk_admit_call`)
    # How long until a call could start; None when it waits on an operator (disabled).
    wait_seconds: float | None


@dataclass(frozen=True)
class ClaimedProbe:
    """Everything the call needs, read in the claim's transaction."""

    probe_id: int
    run_id: int
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
    # The run's budget cap (None: uncapped) and the tokens a call of this model
    # is expected to use, when the run was created with any history (`budget`).
    max_cost: Decimal | None = None
    expected_input_tokens: int | None = None
    expected_output_tokens: int | None = None

    @property
    def label(self) -> str:
        return f"probe {self.probe_id} (run {self.run_id}, {self.provider_name}/{self.model_id})"


@dataclass(frozen=True)
class Skipped:
    """The probe needs no call now: already finished, or its run is not active."""

    provider_id: int
    reason: str
    run_id: int | None = None
    # PAUSED or BUDGET_EXCEEDED when the probe was left PENDING for its run to
    # act on (see `call_gate`); None when nothing is left to do.
    waiting_on: str | None = None


def _prices(row: Any) -> PriceQuote:
    """The price version in force at the claim, i.e. at call time; the model's own if none."""
    version_id = row["price_version_id"]
    prefix = "model_" if version_id is None else "version_"
    values = {column: row[prefix + column] for column in PRICE_COLUMNS}
    return quote_from_columns(values, price_version_id=version_id)


async def claim_probe(
    db: Database, settings: Settings, probe_id: int, job: QueueJob | None = None
) -> ClaimedProbe | Skipped | NotAdmitted:
    """Mark the probe RUNNING (and its run RUNNING) and load what the call needs.

    For a queue `job`, only once its provider admits the call (`NotAdmitted` otherwise).
    """
    async with driver_connection(db) as connection:
        if job is None:
            row = await connection.fetchrow(CLAIM_SQL, probe_id)
        else:
            row = await connection.fetchrow(ADMIT_AND_CLAIM_SQL, probe_id, job.provider_id)
            if row["admission"] != "admitted":
                return NotAdmitted(job.provider_id, row["admission"], row["wait_seconds"])
            if row["state"] is None:
                row = None
    if row is None:
        raise NotFoundError(f"No probe with id {probe_id}.")
    if row["state"] in FINISHED_PROBE_STATES:
        return Skipped(row["provider_id"], f"already {row['state']}")
    if row["claimed_state"] != ProbeState.RUNNING:
        waiting = row["run_status"] if row["claimed_state"] == ProbeState.PENDING else None
        reason = f"run {row['run_id']} is {row['run_status']}"
        return Skipped(row["provider_id"], reason, row["run_id"], waiting)
    return ClaimedProbe(
        probe_id=probe_id,
        run_id=row["run_id"],
        provider_id=row["provider_id"],
        provider_name=row["provider_name"],
        api_style=row["api_style"],
        base_url=row["base_url"],
        api_key_env=row["api_key_env"],
        model_id=row["model_name"],
        prompt=row["prompt"],
        preamble=row["preamble"],
        retry_state=RetryState(row["rate_limit_retries"], row["transient_retries"]),
        prices=_prices(row),
        fallback_prices=fallback_quote(
            row["default_input_price"], row["default_output_price"], settings
        ),
        max_cost=row["max_cost"],
        expected_input_tokens=row["expected_input_tokens"],
        expected_output_tokens=row["expected_output_tokens"],
    )


async def _record(
    db: Database,
    probe_id: int,
    *,
    code: str | None = None,
    message: str | None = None,
    retryable: bool | None = None,
    snapshot: CostSnapshot | None = None,
    response: str | None = None,
    duration_ms: float | None = None,
    job: QueueJob | None = None,
) -> bool:
    """Transcript, final probe state and progress in one statement, and the end of the
    queue `job` when nothing follows it; False if the outcome was already there."""
    state = TranscriptStatus.SUCCEEDED if code is None else TranscriptStatus.FAILED
    async with driver_connection(db) as connection:
        row = await connection.fetchrow(
            RECORD_SQL,
            probe_id,
            state,
            code,
            message,
            retryable,
            response,
            snapshot.input_tokens if snapshot else 0,
            snapshot.output_tokens if snapshot else 0,
            snapshot.cached_input_tokens if snapshot else 0,
            snapshot.reasoning_tokens if snapshot else 0,
            snapshot.cost if snapshot else Decimal(0),
            json.dumps(snapshot.to_json()) if snapshot else None,
            snapshot.unpriced if snapshot else False,
            None if duration_ms is None else round(duration_ms),
            snapshot.cache_write_tokens if snapshot else 0,
            None if job is None else job.job_id,
        )
    if job is not None:
        job.finished = bool(row["job_finished"])
    return bool(row["recorded"])


async def record_success(
    db: Database,
    claimed: ClaimedProbe,
    *,
    response: str,
    snapshot: CostSnapshot,
    duration_ms: float,
    job: QueueJob | None = None,
) -> bool:
    """Write the transcript and count it (ending `job` if it can); False when it was
    already recorded."""
    return await _record(
        db,
        claimed.probe_id,
        snapshot=snapshot,
        response=response,
        duration_ms=duration_ms,
        job=job,
    )


async def record_failure(
    db: Database,
    probe_id: int,
    *,
    code: str,
    message: str,
    retryable: bool,
    job: QueueJob | None = None,
) -> bool:
    """Record a final failure as a FAILED transcript and count it (ending `job` if it can);
    False if already recorded."""
    return await _record(db, probe_id, code=code, message=message, retryable=retryable, job=job)


async def record_retry(
    db: Database, claimed: ClaimedProbe, state: RetryState, *, code: str, message: str
) -> bool:
    """Put the probe back to PENDING with its grown counters; False if its run was cancelled
    (or the probe was already finished by another delivery)."""
    async with driver_connection(db) as connection:
        new_state = await connection.fetchval(
            RETRY_SQL,
            claimed.probe_id,
            state.rate_limit_retries,
            state.transient_retries,
            code,
            message,
        )
    return bool(new_state == ProbeState.PENDING)


async def count_internal_error(
    db: Database, probe_id: int, *, code: str, message: str
) -> int | None:
    """Count an unexpected error of the probe's step; None when the probe has already finished."""
    async with driver_connection(db) as connection:
        count: int | None = await connection.fetchval(INTERNAL_ERROR_SQL, probe_id, code, message)
    return count

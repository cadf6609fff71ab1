"""The probe step's database side: claim a probe, record its outcome, move the run.

This is the hot path of every probe, so each step is ONE statement run as its
own implicit transaction on a bare asyncpg connection (see `driver_connection`):
one round trip, and row locks held only while PostgreSQL executes and commits
it, never across a turn of a busy worker's event loop.

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

from modeldesk.catalog.price_sets import quote_from_columns
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.tables import PRICE_COLUMNS
from modeldesk.enums import ProbeState, RunStatus
from modeldesk.errors import NotFoundError
from modeldesk.llm import CostSnapshot, PriceQuote, RetryState, fallback_quote
from modeldesk.runs.driver_connection import driver_connection

logger = logging.getLogger(__name__)

_DONE = (ProbeState.SUCCEEDED, ProbeState.FAILED, ProbeState.CANCELLED, ProbeState.SKIPPED)
FINISHED_PROBE_STATES = tuple(state.value for state in _DONE)
# Calls may start; runs also wait while PAUSED (to resume) or BUDGET_EXCEEDED
# (to be skipped); counters may still finish an unfinished run.
ACTIVE_RUN_STATUSES = (RunStatus.PENDING.value, RunStatus.RUNNING.value)
WAITING_RUN_STATUSES = (RunStatus.PAUSED.value, RunStatus.BUDGET_EXCEEDED.value)
UNFINISHED_RUN_STATUSES = (*ACTIVE_RUN_STATUSES, RunStatus.PAUSED.value)


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_FINISHED = _sql_list(FINISHED_PROBE_STATES)
_ACTIVE = _sql_list(ACTIVE_RUN_STATUSES)
_KEPT = _sql_list(ACTIVE_RUN_STATUSES + WAITING_RUN_STATUSES)
_WAITING = _sql_list(WAITING_RUN_STATUSES)
_UNFINISHED = _sql_list(UNFINISHED_RUN_STATUSES)
# The model's prices and those of the version in force, as model_<column> and version_<column>.
_MODEL_PRICES = ", ".join(f"m.{column} AS model_{column}" for column in PRICE_COLUMNS)
_VERSION_PRICES = ", ".join(f"v.{column} AS version_{column}" for column in PRICE_COLUMNS)

_CLAIM = f"""
WITH target AS (
    SELECT p.id, p.state, p.run_id, p.scenario_id, p.model_id,
           p.rate_limit_retries, p.transient_retries, p.reserved_cost AS held_cost,
           r.status AS run_status, r.definition_id, r.max_cost
    FROM probes p JOIN runs r ON r.id = p.run_id
    WHERE p.id = $1
    FOR UPDATE OF p
), claimed AS (
    UPDATE probes p SET
        state = CASE WHEN t.run_status IN ({_ACTIVE}) THEN 'RUNNING'
                     WHEN t.run_status IN ({_WAITING}) THEN 'PENDING' ELSE 'CANCELLED' END,
        attempts = p.attempts + CASE WHEN t.run_status IN ({_ACTIVE}) THEN 1 ELSE 0 END,
        started_at = CASE WHEN t.run_status IN ({_ACTIVE})
                          THEN coalesce(p.started_at, now()) ELSE p.started_at END,
        call_started_at = CASE WHEN t.run_status IN ({_ACTIVE})
                               THEN now() ELSE p.call_started_at END,
        finished_at = CASE WHEN t.run_status IN ({_KEPT}) THEN p.finished_at ELSE now() END,
        reserved_cost = NULL
    FROM target t
    WHERE p.id = t.id AND t.state NOT IN ({_FINISHED})
    RETURNING p.state
), counted AS (
    -- A probe cancelled here counts, unless its outcome was already recorded.
    SELECT count(*) AS cancelled FROM target t
    WHERE t.run_status = 'CANCELLED' AND t.state NOT IN ({_FINISHED})
      AND NOT EXISTS (SELECT 1 FROM transcripts x WHERE x.probe_id = t.id)
), run_moved AS (
    -- The first claim starts the run; the reservation of an interrupted call
    -- is released (the call reserves anew).
    UPDATE runs r SET
        status = CASE WHEN r.status = 'PENDING' THEN 'RUNNING' ELSE r.status END,
        started_at = CASE WHEN r.status = 'PENDING' THEN now() ELSE r.started_at END,
        cancelled = r.cancelled + c.cancelled,
        reserved_cost = r.reserved_cost - coalesce(t.held_cost, 0)
    FROM target t, counted c
    WHERE r.id = t.run_id AND t.state NOT IN ({_FINISHED})
      AND (r.status = 'PENDING' OR t.held_cost IS NOT NULL OR c.cancelled > 0)
)
SELECT t.state, t.run_status, t.run_id, t.max_cost,
       rm.expected_input_tokens, rm.expected_output_tokens,
       t.rate_limit_retries, t.transient_retries,
       (SELECT c.state FROM claimed c) AS claimed_state,
       pr.id AS provider_id, pr.name AS provider_name, pr.api_style, pr.base_url,
       pr.api_key_env, pr.default_input_price, pr.default_output_price,
       m.model_id AS model_name, {_MODEL_PRICES},
       s.text AS prompt, d.preamble,
       v.id AS price_version_id, {_VERSION_PRICES}
FROM target t
JOIN llm_models m ON m.id = t.model_id
JOIN llm_providers pr ON pr.id = m.provider_id
JOIN scenarios s ON s.id = t.scenario_id
JOIN definitions d ON d.id = t.definition_id
LEFT JOIN run_models rm ON rm.run_id = t.run_id AND rm.model_id = t.model_id
LEFT JOIN LATERAL (
    SELECT pv.*
    FROM llm_model_price_versions pv
    WHERE pv.model_id = t.model_id AND pv.effective_from <= now()
      AND (pv.effective_until IS NULL OR pv.effective_until > now())
    ORDER BY pv.effective_from DESC
    LIMIT 1
) v ON true
"""

# $2 is the final state; the run is finished by the result that brings its
# counters to total: CANCELLED if probes were cancelled (a run retried after a
# cancel), BUDGET_EXCEEDED if some were skipped, COMPLETED if anything
# succeeded, else FAILED. A finished run keeps its status while its in-flight
# calls are still counted.
_RECORD = f"""
WITH probe AS (
    SELECT id, run_id, scenario_id, model_id, reserved_cost, call_started_at
    FROM probes WHERE id = $1
), inserted AS (
    INSERT INTO transcripts (
        run_id, scenario_id, model_id, probe_id, status, error_code, response,
        input_tokens, output_tokens, cached_input_tokens, reasoning_tokens,
        estimated_cost, cost_snapshot, unpriced, duration_ms, cache_write_tokens)
    SELECT run_id, scenario_id, model_id, id, $2::text, $3::text, $6::text,
           $7::integer, $8::integer, $9::integer, $10::integer,
           $11::numeric, $12::jsonb, $13::boolean, $14::integer, $15::integer
    FROM probe
    -- Any unique key: (run, scenario, model) and probe_id name the same
    -- transcript, and a concurrent duplicate may hit either one first.
    ON CONFLICT DO NOTHING
    RETURNING run_id
), probe_done AS (
    UPDATE probes SET state = $2::text, finished_at = now(), error_code = $3::text,
                      error_message = $4::text, retryable = $5::boolean, reserved_cost = NULL
    WHERE id = $1 AND EXISTS (SELECT 1 FROM inserted)
), attempt AS (
    INSERT INTO probe_attempts (probe_id, started_at, error_code, message)
    SELECT id, call_started_at, $3::text, $4::text FROM probe
    WHERE $2::text = 'FAILED' AND EXISTS (SELECT 1 FROM inserted)
), run_moved AS (
    UPDATE runs r SET
        completed = r.completed + CASE WHEN $2::text = 'SUCCEEDED' THEN 1 ELSE 0 END,
        failed = r.failed + CASE WHEN $2::text = 'SUCCEEDED' THEN 0 ELSE 1 END,
        spent_cost = r.spent_cost + $11::numeric,
        reserved_cost = r.reserved_cost - coalesce((SELECT reserved_cost FROM probe), 0),
        status = CASE
            WHEN r.status IN ({_UNFINISHED})
                 AND r.completed + r.failed + r.skipped + r.cancelled + 1 >= r.total
            THEN CASE WHEN r.cancelled > 0 THEN 'CANCELLED'
                      WHEN r.skipped > 0 THEN 'BUDGET_EXCEEDED'
                      WHEN $2::text = 'SUCCEEDED' OR r.completed > 0 THEN 'COMPLETED'
                      ELSE 'FAILED' END
            ELSE r.status END,
        finished_at = CASE
            WHEN r.status IN ({_UNFINISHED})
                 AND r.completed + r.failed + r.skipped + r.cancelled + 1 >= r.total
            THEN now() ELSE r.finished_at END
    FROM inserted i
    WHERE r.id = i.run_id
)
SELECT count(*) FROM inserted
"""

# Back to PENDING with the grown counters (a paused run's probe waits for the
# resume), unless the run was cancelled during the call: then CANCELLED and
# counted, so it is never called again. The failed call is kept as an attempt
# and its reservation released. Returns the new state; none for a probe not
# RUNNING (already finished by another delivery).
_RETRY = f"""
WITH moved AS (
    UPDATE probes p SET
        state = CASE WHEN r.status IN ({_KEPT}) THEN 'PENDING' ELSE 'CANCELLED' END,
        finished_at = CASE WHEN r.status IN ({_KEPT}) THEN p.finished_at ELSE now() END,
        rate_limit_retries = CASE WHEN r.status IN ({_KEPT}) THEN $2 ELSE p.rate_limit_retries END,
        transient_retries = CASE WHEN r.status IN ({_KEPT}) THEN $3 ELSE p.transient_retries END,
        error_code = CASE WHEN r.status IN ({_KEPT}) THEN $4 ELSE p.error_code END,
        error_message = CASE WHEN r.status IN ({_KEPT}) THEN $5 ELSE p.error_message END,
        retryable = CASE WHEN r.status IN ({_KEPT}) THEN true ELSE p.retryable END,
        reserved_cost = NULL
    FROM runs r, probes old
    WHERE p.id = $1 AND r.id = p.run_id AND old.id = p.id AND p.state = 'RUNNING'
    RETURNING p.state, p.run_id, old.reserved_cost AS held_cost, old.call_started_at
), attempt AS (
    INSERT INTO probe_attempts (probe_id, started_at, error_code, message)
    SELECT $1, call_started_at, $4, $5 FROM moved
), run_moved AS (
    UPDATE runs r SET
        cancelled = r.cancelled + CASE WHEN m.state = 'CANCELLED' THEN 1 ELSE 0 END,
        reserved_cost = r.reserved_cost - coalesce(m.held_cost, 0)
    FROM moved m
    WHERE r.id = m.run_id AND (m.state = 'CANCELLED' OR m.held_cost IS NOT NULL)
)
SELECT state FROM moved
"""

# Counts an error that is a bug rather than a provider failure; None for a
# probe already finished (or unknown), which needs nothing more.
_INTERNAL_ERROR = f"""
UPDATE probes SET internal_errors = internal_errors + 1, error_code = $2, error_message = $3,
                  retryable = true
WHERE id = $1 AND state NOT IN ({_FINISHED})
RETURNING internal_errors
"""


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


async def claim_probe(db: Database, settings: Settings, probe_id: int) -> ClaimedProbe | Skipped:
    """Mark the probe RUNNING (and its run RUNNING) and load what the call needs."""
    async with driver_connection(db) as connection:
        row = await connection.fetchrow(_CLAIM, probe_id)
    if row is None:
        raise NotFoundError(f"No probe with id {probe_id}.")
    if row["state"] in FINISHED_PROBE_STATES:
        return Skipped(row["provider_id"], f"already {row['state']}")
    if row["claimed_state"] != "RUNNING":
        waiting = row["run_status"] if row["claimed_state"] == "PENDING" else None
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
) -> bool:
    """Transcript, final probe state and progress in one statement; False if already there."""
    state = "SUCCEEDED" if code is None else "FAILED"
    async with driver_connection(db) as connection:
        count = await connection.fetchval(
            _RECORD,
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
        )
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
        db, claimed.probe_id, snapshot=snapshot, response=response, duration_ms=duration_ms
    )


async def record_failure(
    db: Database, probe_id: int, *, code: str, message: str, retryable: bool
) -> bool:
    """Record a final failure as a FAILED transcript and count it; False if already recorded."""
    return await _record(db, probe_id, code=code, message=message, retryable=retryable)


async def record_retry(
    db: Database, claimed: ClaimedProbe, state: RetryState, *, code: str, message: str
) -> bool:
    """Put the probe back to PENDING with its grown counters; False if its run was cancelled
    (or the probe was already finished by another delivery)."""
    async with driver_connection(db) as connection:
        new_state = await connection.fetchval(
            _RETRY,
            claimed.probe_id,
            state.rate_limit_retries,
            state.transient_retries,
            code,
            message,
        )
    return bool(new_state == "PENDING")


async def count_internal_error(
    db: Database, probe_id: int, *, code: str, message: str
) -> int | None:
    """Count an unexpected error of the probe's step; None when the probe has already finished."""
    async with driver_connection(db) as connection:
        count: int | None = await connection.fetchval(_INTERNAL_ERROR, probe_id, code, message)
    return count

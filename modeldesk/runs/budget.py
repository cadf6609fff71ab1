"""A run's budget cap (`maxCost`): calls reserve their expected cost before they start.

The rule (SPEC 9.2): a run's recorded cost plus the expected cost of its calls
in flight never passes its cap. It holds across any number of workers because
the check and the reservation are one UPDATE of the run row in PostgreSQL
(`reserve_call`): concurrent reservations queue on that row, and each re-reads
the newest `spent_cost + reserved_cost` before it adds its own. Recording the
call (probe_records) then replaces the reservation by the real cost in the same
statement that writes the transcript.

A call's expected cost is the run's expected usage of its model (the average
tokens of the model's earlier successful transcripts, stored on `run_models`
when the run is created) or, without any history, the estimate's fallback
rule, priced at the prices the call would be charged. Cached-input discounts
are left out, so the reservation errs on the high side.

The first call that does not fit stops the run: it becomes BUDGET_EXCEEDED at
once (no further call starts), and `skip_remaining_probes` ends every probe
still waiting as SKIPPED with code BUDGET_EXCEEDED and a SKIPPED transcript.
Calls already in flight finish and are recorded.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.catalog import clean_price
from modeldesk.db.session import Database
from modeldesk.db.sql_values import sql_list, sql_value
from modeldesk.enums import ACTIVE_RUN_STATUSES, ProbeState, RunStatus, TranscriptStatus
from modeldesk.errors import ErrorCode
from modeldesk.llm import Usage, price_usage
from modeldesk.runs.driver_connection import driver_connection
from modeldesk.runs.estimate import fallback_usage
from modeldesk.runs.probe_jobs import discard_probe_jobs
from modeldesk.runs.probe_records import ClaimedProbe

logger = logging.getLogger(__name__)

MAX_COST_FIELD = "maxCost"
SKIPPED_MESSAGE = "Not called: the run's budget cap (maxCost) was reached."

_ACTIVE = sql_list(ACTIVE_RUN_STATUSES)
_PROBE_RUNNING = sql_value(ProbeState.RUNNING)

_EXPECTED_USAGE = f"""
UPDATE run_models rm SET expected_input_tokens = h.input_tokens,
                         expected_output_tokens = h.output_tokens
FROM (
    SELECT t.model_id, round(avg(t.input_tokens))::integer AS input_tokens,
           round(avg(t.output_tokens))::integer AS output_tokens
    FROM transcripts t
    WHERE t.status = {sql_value(TranscriptStatus.SUCCEEDED)}
      AND t.model_id IN (SELECT model_id FROM run_models WHERE run_id = :run_id)
    GROUP BY t.model_id
) h
WHERE rm.run_id = :run_id AND rm.model_id = h.model_id
"""

_FITS = "r.spent_cost + r.reserved_cost + $3::numeric <= r.max_cost"
# $1 probe (claimed, RUNNING), $2 its run, $3 the call's expected cost. Returns
# the run's status: still active when reserved, BUDGET_EXCEEDED when this call
# did not fit and stopped the run, none when the run was no longer active
# (paused, cancelled or stopped meanwhile). The run row is locked first: the
# probe is RUNNING, so no other statement locks it in the other order.
_RESERVE = f"""
WITH run AS (
    UPDATE runs r SET
        reserved_cost = r.reserved_cost + CASE WHEN {_FITS} THEN $3::numeric ELSE 0 END,
        status = CASE WHEN {_FITS} THEN r.status ELSE {sql_value(RunStatus.BUDGET_EXCEEDED)} END,
        finished_at = CASE WHEN {_FITS} THEN r.finished_at ELSE now() END
    WHERE r.id = $2 AND r.status IN ({_ACTIVE})
      AND EXISTS (SELECT 1 FROM probes p WHERE p.id = $1 AND p.run_id = $2
                  AND p.state = {_PROBE_RUNNING})
    RETURNING r.status
), held AS (
    UPDATE probes SET reserved_cost = $3::numeric
    WHERE id = $1 AND (SELECT status FROM run) IN ({_ACTIVE})
)
SELECT status FROM run
"""

# Probe rows first, then the run row, as everywhere else. Only the probe whose
# call was refused (:probe_id) may be RUNNING; its reservation was never made.
_SKIP = f"""
WITH skipped AS (
    UPDATE probes SET state = {sql_value(ProbeState.SKIPPED)}, finished_at = now(),
                      error_code = :code, error_message = :message, retryable = false,
                      reserved_cost = NULL
    WHERE run_id = :run_id
      AND (state = {sql_value(ProbeState.PENDING)} OR (id = :probe_id AND state = {_PROBE_RUNNING}))
    RETURNING id, scenario_id, model_id
), written AS (
    INSERT INTO transcripts (run_id, scenario_id, model_id, probe_id, status, error_code)
    SELECT :run_id, scenario_id, model_id, id, {sql_value(TranscriptStatus.SKIPPED)}, :code
    FROM skipped
    ON CONFLICT DO NOTHING
    RETURNING probe_id
), counted AS (
    UPDATE runs SET skipped = skipped + (SELECT count(*) FROM written) WHERE id = :run_id
)
SELECT id, model_id FROM skipped
"""


def clean_max_cost(value: Any) -> Decimal | None:
    """A cap in USD: a finite decimal >= 0 (as exact as a price), or None for no cap."""
    return clean_price(value, MAX_COST_FIELD)


async def record_expected_usage(session: AsyncSession, run_id: int) -> None:
    """Store, per target model of a new run, the average usage of its earlier transcripts."""
    await session.flush()  # the run's target models must be rows for the UPDATE to see
    await session.execute(text(_EXPECTED_USAGE), {"run_id": run_id})


def expected_call_cost(claimed: ClaimedProbe) -> Decimal:
    """What the claimed call is expected to cost, at the prices it would be charged."""
    if claimed.expected_input_tokens is None or claimed.expected_output_tokens is None:
        usage = fallback_usage(claimed.preamble, claimed.prompt)
    else:
        usage = Usage(
            input_tokens=claimed.expected_input_tokens,
            output_tokens=claimed.expected_output_tokens,
        )
    return price_usage(usage, claimed.prices, claimed.fallback_prices)[1]


async def reserve_call(db: Database, claimed: ClaimedProbe, expected: Decimal) -> str | None:
    """Reserve the call's expected cost if it fits under the cap; see `_RESERVE` for the answer."""
    async with driver_connection(db) as connection:
        status: str | None = await connection.fetchval(
            _RESERVE, claimed.probe_id, claimed.run_id, expected
        )
    if status == RunStatus.BUDGET_EXCEEDED:
        logger.warning(
            "%s: expected cost %s would pass the run's cap of %s; run %s stopped",
            claimed.label,
            expected,
            claimed.max_cost,
            claimed.run_id,
        )
    return status


async def skip_remaining_probes(db: Database, run_id: int, probe_id: int | None = None) -> int:
    """End the stopped run's waiting probes as SKIPPED; returns how many. Safe to repeat.

    `probe_id` names the claimed probe whose call did not fit, skipped with them.
    """
    async with db.transaction() as session:
        rows = (
            await session.execute(
                text(_SKIP),
                {
                    "run_id": run_id,
                    "probe_id": probe_id,
                    "code": ErrorCode.BUDGET_EXCEEDED.value,
                    "message": SKIPPED_MESSAGE,
                },
            )
        ).all()
        discarded = await discard_probe_jobs(session, [(row[0], row[1]) for row in rows])
    if rows:
        logger.info(
            "run %s over its budget: %d probes skipped, %d queued jobs discarded",
            run_id,
            len(rows),
            discarded,
        )
    return len(rows)

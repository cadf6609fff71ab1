"""The probe step's SQL (see `probe_records`): one statement per step, one round trip.

Kept apart from the Python that runs it so each stays readable. The claim
comes in two forms: `CLAIM_SQL` alone, and `ADMIT_AND_CLAIM_SQL`, which first
asks the provider's admission (`modeldesk_admit_call`, migration 0003: enabled,
not held, room in the requests-per-minute window) and claims the probe only if
the call may start, in the same statement: the queue's hot path pays one round
trip for both. The admission's per-provider lock is then held until the claim
commits, a millisecond at most; the lock order stays advisory lock, probe row,
run row, so nothing deadlocks with it.

`RECORD_SQL` may also end the probe's queue job (`$16`, pgqueuer's row and its
log), in the same transaction as the transcript: the job's slot is free the
moment the outcome is committed, and never before. It does so only for a run
that does not summarize: a summarizing run's job must stay until its summary
is queued (`after_probe_recorded`), so a worker dying in between leaves the job
to be delivered again.
"""

from __future__ import annotations

from modeldesk.db.job_queue import finish_job_ctes
from modeldesk.db.sql_values import sql_list, sql_value
from modeldesk.db.tables import PRICE_COLUMNS
from modeldesk.enums import (
    ACTIVE_RUN_STATUSES,
    FINISHED_PROBE_STATES,
    UNFINISHED_RUN_STATUSES,
    WAITING_RUN_STATUSES,
    ProbeState,
    RunStatus,
    TranscriptStatus,
)

_FINISHED = sql_list(FINISHED_PROBE_STATES)
_ACTIVE = sql_list(ACTIVE_RUN_STATUSES)
_KEPT = sql_list(ACTIVE_RUN_STATUSES + WAITING_RUN_STATUSES)
_WAITING = sql_list(WAITING_RUN_STATUSES)
_UNFINISHED = sql_list(UNFINISHED_RUN_STATUSES)
_PROBE_PENDING = sql_value(ProbeState.PENDING)
_PROBE_RUNNING = sql_value(ProbeState.RUNNING)
_PROBE_CANCELLED = sql_value(ProbeState.CANCELLED)
_RUN_PENDING = sql_value(RunStatus.PENDING)
_RUN_RUNNING = sql_value(RunStatus.RUNNING)
_RUN_CANCELLED = sql_value(RunStatus.CANCELLED)
# The outcome ($2) is written to the probe and the transcript alike: the two
# vocabularies share SUCCEEDED and FAILED.
_SUCCEEDED = sql_value(TranscriptStatus.SUCCEEDED)
_FAILED = sql_value(TranscriptStatus.FAILED)
# The model's prices and those of the version in force, as model_<column> and version_<column>.
_MODEL_PRICES = ", ".join(f"m.{column} AS model_{column}" for column in PRICE_COLUMNS)
_VERSION_PRICES = ", ".join(f"v.{column} AS version_{column}" for column in PRICE_COLUMNS)

# The claim; the /*admission...*/ markers are where `ADMIT_AND_CLAIM_SQL` puts
# the admission before it (see the end of this module).
_CLAIM_TEMPLATE = f"""
WITH /*admission*/target AS (
    SELECT p.id, p.state, p.run_id, p.scenario_id, p.model_id,
           p.rate_limit_retries, p.transient_retries, p.reserved_cost AS held_cost,
           r.status AS run_status, r.definition_id, r.max_cost
    FROM probes p JOIN runs r ON r.id = p.run_id
    WHERE p.id = $1/*admitted*/
    FOR UPDATE OF p
), claimed AS (
    UPDATE probes p SET
        state = CASE WHEN t.run_status IN ({_ACTIVE}) THEN {_PROBE_RUNNING}
                     WHEN t.run_status IN ({_WAITING}) THEN {_PROBE_PENDING}
                     ELSE {_PROBE_CANCELLED} END,
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
    WHERE t.run_status = {_RUN_CANCELLED} AND t.state NOT IN ({_FINISHED})
      AND NOT EXISTS (SELECT 1 FROM transcripts x WHERE x.probe_id = t.id)
), run_moved AS (
    -- The first claim starts the run; the reservation of an interrupted call
    -- is released (the call reserves anew).
    UPDATE runs r SET
        status = CASE WHEN r.status = {_RUN_PENDING} THEN {_RUN_RUNNING} ELSE r.status END,
        started_at = CASE WHEN r.status = {_RUN_PENDING} THEN now() ELSE r.started_at END,
        cancelled = r.cancelled + c.cancelled,
        reserved_cost = r.reserved_cost - coalesce(t.held_cost, 0)
    FROM target t, counted c
    WHERE r.id = t.run_id AND t.state NOT IN ({_FINISHED})
      AND (r.status = {_RUN_PENDING} OR t.held_cost IS NOT NULL OR c.cancelled > 0)
)
SELECT /*admission_columns*/t.state, t.run_status, t.run_id, t.max_cost,
       rm.expected_input_tokens, rm.expected_output_tokens,
       t.rate_limit_retries, t.transient_retries,
       (SELECT c.state FROM claimed c) AS claimed_state,
       pr.id AS provider_id, pr.name AS provider_name, pr.api_style, pr.base_url,
       pr.api_key_env, pr.default_input_price, pr.default_output_price,
       m.model_id AS model_name, {_MODEL_PRICES},
       s.text AS prompt, d.preamble,
       v.id AS price_version_id, {_VERSION_PRICES}
FROM /*admission_from*/target t
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
) v ON true/*admission_end*/
"""

# $2 is the final state; the run is finished by the result that brings its
# counters to total: CANCELLED if probes were cancelled (a run retried after a
# cancel), BUDGET_EXCEEDED if some were skipped, COMPLETED if anything
# succeeded, else FAILED. A finished run keeps its status while its in-flight
# calls are still counted.
RECORD_SQL = f"""
WITH probe AS (
    SELECT p.id, p.run_id, p.scenario_id, p.model_id, p.reserved_cost, p.call_started_at,
           r.summarize
    FROM probes p JOIN runs r ON r.id = p.run_id WHERE p.id = $1
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
    WHERE $2::text = {_FAILED} AND EXISTS (SELECT 1 FROM inserted)
), run_moved AS (
    UPDATE runs r SET
        completed = r.completed + CASE WHEN $2::text = {_SUCCEEDED} THEN 1 ELSE 0 END,
        failed = r.failed + CASE WHEN $2::text = {_SUCCEEDED} THEN 0 ELSE 1 END,
        spent_cost = r.spent_cost + $11::numeric,
        reserved_cost = r.reserved_cost - coalesce((SELECT reserved_cost FROM probe), 0),
        status = CASE
            WHEN r.status IN ({_UNFINISHED})
                 AND r.completed + r.failed + r.skipped + r.cancelled + 1 >= r.total
            THEN CASE WHEN r.cancelled > 0 THEN {_RUN_CANCELLED}
                      WHEN r.skipped > 0 THEN {sql_value(RunStatus.BUDGET_EXCEEDED)}
                      WHEN $2::text = {_SUCCEEDED} OR r.completed > 0
                      THEN {sql_value(RunStatus.COMPLETED)}
                      ELSE {sql_value(RunStatus.FAILED)} END
            ELSE r.status END,
        finished_at = CASE
            WHEN r.status IN ({_UNFINISHED})
                 AND r.completed + r.failed + r.skipped + r.cancelled + 1 >= r.total
            THEN now() ELSE r.finished_at END
    FROM inserted i
    WHERE r.id = i.run_id
    -- $16: the queue job to end with the outcome, NULL for none (see the docstring).
), {finish_job_ctes("$16::bigint", "NOT (SELECT summarize FROM probe)")}
SELECT (SELECT count(*) FROM inserted) AS recorded,
       (SELECT count(*) FROM job_finished) AS job_finished
"""

# Back to PENDING with the grown counters (a paused run's probe waits for the
# resume), unless the run was cancelled during the call: then CANCELLED and
# counted, so it is never called again. The failed call is kept as an attempt
# and its reservation released. Returns the new state; none for a probe not
# RUNNING (already finished by another delivery).
RETRY_SQL = f"""
WITH moved AS (
    UPDATE probes p SET
        state = CASE WHEN r.status IN ({_KEPT}) THEN {_PROBE_PENDING} ELSE {_PROBE_CANCELLED} END,
        finished_at = CASE WHEN r.status IN ({_KEPT}) THEN p.finished_at ELSE now() END,
        rate_limit_retries = CASE WHEN r.status IN ({_KEPT}) THEN $2 ELSE p.rate_limit_retries END,
        transient_retries = CASE WHEN r.status IN ({_KEPT}) THEN $3 ELSE p.transient_retries END,
        error_code = CASE WHEN r.status IN ({_KEPT}) THEN $4 ELSE p.error_code END,
        error_message = CASE WHEN r.status IN ({_KEPT}) THEN $5 ELSE p.error_message END,
        retryable = CASE WHEN r.status IN ({_KEPT}) THEN true ELSE p.retryable END,
        reserved_cost = NULL
    FROM runs r, probes old
    WHERE p.id = $1 AND r.id = p.run_id AND old.id = p.id AND p.state = {_PROBE_RUNNING}
    RETURNING p.state, p.run_id, old.reserved_cost AS held_cost, old.call_started_at
), attempt AS (
    INSERT INTO probe_attempts (probe_id, started_at, error_code, message)
    SELECT $1, call_started_at, $4, $5 FROM moved
), run_moved AS (
    UPDATE runs r SET
        cancelled = r.cancelled + CASE WHEN m.state = {_PROBE_CANCELLED} THEN 1 ELSE 0 END,
        reserved_cost = r.reserved_cost - coalesce(m.held_cost, 0)
    FROM moved m
    WHERE r.id = m.run_id AND (m.state = {_PROBE_CANCELLED} OR m.held_cost IS NOT NULL)
)
SELECT state FROM moved
"""

# Counts an error that is a bug rather than a provider failure; None for a
# probe already finished (or unknown), which needs nothing more.
INTERNAL_ERROR_SQL = f"""
UPDATE probes SET internal_errors = internal_errors + 1, error_code = $2, error_message = $3,
                  retryable = true
WHERE id = $1 AND state NOT IN ({_FINISHED})
RETURNING internal_errors
"""

# A claim on its own (a probe step run outside the queue).
CLAIM_SQL = (
    _CLAIM_TEMPLATE.replace("/*admission*/", "")
    .replace("/*admitted*/", "")
    .replace("/*admission_columns*/", "")
    .replace("/*admission_from*/", "")
    .replace("/*admission_end*/", "")
)
# $2 the provider: its admission's answer (wait_seconds, reason), then the claim's
# columns, NULL when the call may not start (and the probe is left untouched).
ADMIT_AND_CLAIM_SQL = (
    _CLAIM_TEMPLATE.replace(
        "/*admission*/",
        "admission AS MATERIALIZED (\n"
        "    SELECT wait_seconds, reason FROM modeldesk_admit_call($2)\n), ",
    )
    .replace("/*admitted*/", "\n      AND (SELECT a.reason FROM admission a) = 'admitted'")
    .replace("/*admission_columns*/", "a.wait_seconds, a.reason AS admission, ")
    .replace("/*admission_from*/", "admission a LEFT JOIN (")
    .replace("/*admission_end*/", "\n) ON true")
)

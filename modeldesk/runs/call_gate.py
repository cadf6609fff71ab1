"""Between the claim and the call: what a paused run or a budget cap asks of a probe.

`execute_probe` asks here after claiming. A probe its run left waiting
(`Skipped.waiting_on`) is not called: a paused run's job comes back to the
queue after `PAUSED_RECHECK_SECONDS` (resuming the run makes it due at once,
see `run_control`), so it never holds a provider slot while paused; a stopped
run's waiting probes are skipped. A claimed call of a capped run must first
reserve its expected cost (`budget`).
"""

from __future__ import annotations

import logging

from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.enums import ACTIVE_RUN_STATUSES, RunStatus
from modeldesk.runs.budget import expected_call_cost, reserve_call, skip_remaining_probes
from modeldesk.runs.probe_records import ClaimedProbe, Skipped
from modeldesk.runs.step_outcome import StepOutcome

logger = logging.getLogger(__name__)

# Long, because resuming wakes the run's jobs itself; this only bounds how long
# a job picked at the very moment of the resume waits.
PAUSED_RECHECK_SECONDS = 60.0


def admission_delay(wait_seconds: float | None, settings: Settings) -> float:
    """How long a call the provider's admission refused waits before it is asked again:
    as long as the admission said, or, for a disabled provider (no figure: it waits on
    an operator), until the next limits refresh may have enabled it."""
    return settings.limits_refresh_seconds if wait_seconds is None else wait_seconds


async def outcome_when_not_claimed(db: Database, skipped: Skipped) -> StepOutcome:
    """What the queue does with a job whose probe was not claimed."""
    if skipped.waiting_on == RunStatus.PAUSED:
        return StepOutcome("retry", skipped.provider_id, delay_seconds=PAUSED_RECHECK_SECONDS)
    if skipped.waiting_on == RunStatus.BUDGET_EXCEEDED and skipped.run_id is not None:
        await skip_remaining_probes(db, skipped.run_id)
    return StepOutcome("done", skipped.provider_id)


async def gate_call(db: Database, claimed: ClaimedProbe) -> StepOutcome | None:
    """None when the call may start; else what the queue does instead.

    An uncapped run's call passes without a round trip.
    """
    if claimed.max_cost is None:
        return None
    status = await reserve_call(db, claimed, expected_call_cost(claimed))
    if status in ACTIVE_RUN_STATUSES:
        return None
    if status == RunStatus.BUDGET_EXCEEDED:
        await skip_remaining_probes(db, claimed.run_id, claimed.probe_id)
        return StepOutcome("done", claimed.provider_id)
    # Paused, cancelled or stopped since the claim: claiming again settles the probe.
    logger.info("%s: run %s changed before the call; claiming again", claimed.label, claimed.run_id)
    return StepOutcome("retry", claimed.provider_id)

"""May a call of this provider start now? One fleet-wide answer from PostgreSQL.

`modeldesk_admit_call` (migration 0003) checks, under a per-provider lock:
the provider is enabled, it is not held after a rate limit, and its sliding
60 s window has room (no more than `requests_per_minute` starts in any 60 s,
0 counting as 1). When it admits a call it records the start in the same
transaction, so two workers can never both take the window's last slot. A
call turned away by a full window gets a turn in the provider's waiting line,
so the waiting jobs come back spread out at the provider's rate.

Probe jobs, the bulk of the calls, ask it inside their claim's statement
(`runs.probe_sql.ADMIT_AND_CLAIM_SQL`), so admission costs them no round trip
of its own; `admit_call` serves the other jobs (expansions, summaries,
analyses).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import asyncpg  # type: ignore[import-untyped]

# One statement, so one round trip; it is its own transaction, and the
# function's per-provider lock ends with it.
_ADMIT = "SELECT wait_seconds, reason FROM modeldesk_admit_call($1)"


class AdmissionReason(StrEnum):
    ADMITTED = "admitted"
    DISABLED = "disabled"
    HELD = "held"
    RATE_WINDOW = "rate_window"


@dataclass(frozen=True)
class Admission:
    reason: AdmissionReason
    # How long until a call could start; None when it depends on an operator
    # (a disabled provider).
    wait_seconds: float | None

    @property
    def admitted(self) -> bool:
        return self.reason is AdmissionReason.ADMITTED


async def admit_call(pool: asyncpg.Pool, provider_id: int) -> Admission:
    row = await pool.fetchrow(_ADMIT, provider_id)
    return Admission(reason=AdmissionReason(row["reason"]), wait_seconds=row["wait_seconds"])

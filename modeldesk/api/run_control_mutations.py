"""Run control (SPEC 9.2): pause, resume and retry a run's failed probes.

Thin like every resolver: the runs service checks the admin role, the run's
status and everything else; these convert the id and wrap the run.
"""

from __future__ import annotations

import strawberry

from modeldesk import runs
from modeldesk.api.context import Info
from modeldesk.api.fields import admin_mutation
from modeldesk.api.ids import parse_id
from modeldesk.api.run_mutations import RunPayload
from modeldesk.api.run_types import RunType


@strawberry.type
class RunControlMutation:
    @admin_mutation
    async def pause_run(self, info: Info, id: strawberry.ID) -> RunPayload:
        """No new call of the run starts (calls in flight finish) until resumeRun."""
        row = await runs.pause_run(info.context.db, info.context.principal, parse_id(id))
        return RunPayload(run=RunType.from_row(row))

    @admin_mutation
    async def resume_run(self, info: Info, id: strawberry.ID) -> RunPayload:
        """A paused run starts calls again, taking turns with the other runs."""
        row = await runs.resume_run(info.context.db, info.context.principal, parse_id(id))
        return RunPayload(run=RunType.from_row(row))

    @admin_mutation
    async def retry_failed_probes(self, info: Info, run_id: strawberry.ID) -> RunPayload:
        """Queue again every failed probe whose failure was retryable (rate limits, timeouts,
        5xx, database); the run is RUNNING again. Refused (CONFLICT) while it still runs."""
        row = await runs.retry_failed_probes(
            info.context.db, info.context.principal, parse_id(run_id, "runId")
        )
        return RunPayload(run=RunType.from_row(row))

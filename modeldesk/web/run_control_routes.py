"""The run page's control buttons: Pause, Resume and Retry failed probes.

Each calls the runs service (which checks the role and the run's status) and
answers with the run's live region, updated, and the outcome in the status
region; a refusal (a finished run, a viewer) shows there instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.auth import Principal
from modeldesk.db.run_tables import Run
from modeldesk.db.session import Database
from modeldesk.errors import ModeldeskError
from modeldesk.runs import pause_run, resume_run, retry_failed_probes, retryable_failure_counts
from modeldesk.web.dependencies import Admin, Csrf, Db, PathId, User
from modeldesk.web.rendering import Flash, error_response, render
from modeldesk.web.runs_view import run_detail

router = APIRouter()

RunAction = Callable[[Database, Principal, int], Awaitable[Run]]


async def _act(
    request: Request, db: Db, user: User, run_id: int, action: RunAction, message: str
) -> HTMLResponse:
    try:
        await action(db, user, run_id)
        detail = await run_detail(db, run_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    return render(request, "runs/_live.html", {"detail": detail}, flash=Flash(message))


@router.post("/runs/{run_id:int}/pause", include_in_schema=False)
async def pause(request: Request, db: Db, user: Admin, _csrf: Csrf, run_id: PathId) -> HTMLResponse:
    message = (
        f"Run #{run_id} is paused: no new call starts until you resume it. "
        "Calls in flight finish and are recorded."
    )
    return await _act(request, db, user, run_id, pause_run, message)


@router.post("/runs/{run_id:int}/resume", include_in_schema=False)
async def resume(
    request: Request, db: Db, user: Admin, _csrf: Csrf, run_id: PathId
) -> HTMLResponse:
    message = f"Run #{run_id} resumed: its waiting probes are queued again."
    return await _act(request, db, user, run_id, resume_run, message)


@router.post("/runs/{run_id:int}/retry", include_in_schema=False)
async def retry(request: Request, db: Db, user: Admin, _csrf: Csrf, run_id: PathId) -> HTMLResponse:
    count = (await retryable_failure_counts(db, [run_id]))[run_id]
    message = f"Run #{run_id}: {count} failed probe{'s' if count != 1 else ''} queued again."
    return await _act(request, db, user, run_id, retry_failed_probes, message)

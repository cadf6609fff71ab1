"""The run list and a run's page, both polled while runs move, and cancelling a run."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.db.reads import read_page
from modeldesk.errors import ModeldeskError
from modeldesk.runs import cancel_run, list_runs
from modeldesk.web.dependencies import Admin, Csrf, Db, PageNumber, PathId, User
from modeldesk.web.rendering import Flash, error_response, render
from modeldesk.web.runs_view import run_detail, run_rows

router = APIRouter()

PAGE_SIZE = 50


async def _list_context(db: Db, page: int) -> dict[str, object]:
    runs = await read_page(partial(list_runs, db), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rows = await run_rows(db, runs.rows)
    return {
        "section": "runs",
        "rows": rows,
        "page": page,
        "has_older": runs.has_more,
        "polling": any(row.active for row in rows),
    }


@router.get("/runs", include_in_schema=False)
async def runs_page(request: Request, db: Db, user: User, page: PageNumber = 1) -> HTMLResponse:
    return render(request, "runs/list.html", await _list_context(db, page))


@router.get("/runs/rows", include_in_schema=False)
async def runs_rows(request: Request, db: Db, user: User, page: PageNumber = 1) -> HTMLResponse:
    """The list's body alone, for polling; it stops polling once no run is moving."""
    return render(request, "runs/_rows.html", await _list_context(db, page))


@router.get("/runs/{run_id:int}", include_in_schema=False)
async def run_page(request: Request, db: Db, user: User, run_id: PathId) -> HTMLResponse:
    try:
        detail = await run_detail(db, run_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    flash = None
    if request.query_params.get("created"):
        progress = detail.row.progress
        flash = Flash(f"Run #{run_id} started: {progress.total} probes queued.")
    return render(
        request, "runs/detail.html", {"section": "runs", "detail": detail, "page_flash": flash}
    )


@router.get("/runs/{run_id:int}/live", include_in_schema=False)
async def run_live(request: Request, db: Db, user: User, run_id: PathId) -> HTMLResponse:
    """Status, progress, costs and transcripts, for polling while the run moves."""
    try:
        detail = await run_detail(db, run_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    return render(request, "runs/_live.html", {"detail": detail})


@router.post("/runs/{run_id:int}/cancel", include_in_schema=False)
async def cancel(
    request: Request, db: Db, user: Admin, _csrf: Csrf, run_id: PathId
) -> HTMLResponse:
    try:
        await cancel_run(db, user, run_id)
        detail = await run_detail(db, run_id)
    except ModeldeskError as exc:
        return error_response(request, exc)
    progress = detail.row.progress
    message = (
        f"Run #{run_id} is cancelled: no new call starts. "
        f"{progress.completed + progress.failed + progress.skipped} of {progress.total} "
        "probes had finished; calls in flight are still recorded."
    )
    return render(
        request,
        "runs/_live.html",
        {"detail": detail},
        flash=Flash(message, "warning"),
        headers={"HX-Trigger": "closeDialogs"},
    )

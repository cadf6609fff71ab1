"""`/runs/<id>/transcripts.jsonl` and `.csv`: a run's transcripts, streamed, for any signed-in user.

Scripts send `Authorization: Bearer <token>`; a browser following the run
page's `Download JSONL` / `Download CSV` links sends its session cookie. A
request with neither is sent to sign in (a bad Bearer token gets 401, since
a script cannot follow a sign-in page). The body is written page by page as
it is read (`runs.transcript_export`), never held whole.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from modeldesk.auth import Principal, authenticate_token, bearer_token
from modeldesk.errors import ModeldeskError
from modeldesk.runs import ExportFormat, transcript_export
from modeldesk.web.dependencies import Db, PathId, current_user
from modeldesk.web.rendering import error_response, http_status

logger = logging.getLogger(__name__)

router = APIRouter()


async def _reader(request: Request, db: Db) -> Principal:
    """The Bearer token's principal when one is sent, else the session's (or sign-in)."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        return await current_user(request, db)
    return await authenticate_token(db, bearer_token(authorization))


async def _export(request: Request, db: Db, run_id: int, export_format: ExportFormat) -> Response:
    bearer = "authorization" in request.headers
    try:
        reader = await _reader(request, db)
        body = await transcript_export(db, run_id, export_format)
    except ModeldeskError as exc:
        if bearer:  # a script: the code and message as text, with the right status
            return PlainTextResponse(f"{exc.code}: {exc.message}\n", http_status(exc))
        return error_response(request, exc)
    filename = f"run-{run_id}-transcripts.{export_format.value}"
    logger.info("run %s transcripts exported as %s by %s", run_id, export_format, reader.name)
    return StreamingResponse(
        body,
        media_type=export_format.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/runs/{run_id:int}/transcripts.jsonl", include_in_schema=False)
async def export_jsonl(request: Request, db: Db, run_id: PathId) -> Response:
    return await _export(request, db, run_id, ExportFormat.JSONL)


@router.get("/runs/{run_id:int}/transcripts.csv", include_in_schema=False)
async def export_csv(request: Request, db: Db, run_id: PathId) -> Response:
    return await _export(request, db, run_id, ExportFormat.CSV)

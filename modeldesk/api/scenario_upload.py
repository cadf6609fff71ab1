"""`POST /definitions/<id>/scenarios`: a definition's scenarios as a file (SPEC 9.7).

The body is the file itself, CSV (`Content-Type: text/csv`) or JSON Lines
(`application/jsonl` or `application/x-ndjson`), sent with an admin's Bearer
token; the admin body limit (16 MB) bounds it, not a GraphQL variable's size.
The answer is JSON: `{"definitionId", "scenarioCount"}`, or `{"error": {code,
message, details}}` with the error's HTTP status.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from modeldesk import runs
from modeldesk.api.request_auth import RequestAuthenticator
from modeldesk.context import AppContext
from modeldesk.errors import ErrorCode, ModeldeskError, ValidationError
from modeldesk.input_rules import as_db_id
from modeldesk.runs import SCENARIO_FILE_TYPES, ScenarioFileFormat

logger = logging.getLogger(__name__)

SCENARIO_UPLOAD_PATH = "/definitions/{definition_id}/scenarios"
_STATUS = {
    ErrorCode.VALIDATION_ERROR: 422,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNAVAILABLE: 503,
}


def _file_format(request: Request) -> ScenarioFileFormat:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    found = SCENARIO_FILE_TYPES.get(media_type)
    if found is None:
        raise ValidationError(
            f"Send the file as one of {', '.join(SCENARIO_FILE_TYPES)} (Content-Type), not "
            f"{media_type or 'nothing'}.",
            field="contentType",
        )
    return found


class ScenarioUploadEndpoint:
    def __init__(self, context: AppContext, authenticator: RequestAuthenticator) -> None:
        self._context = context
        self._authenticator = authenticator

    async def handle(self, request: Request) -> Response:
        try:
            caller = await self._authenticator.authenticate(request.headers.get("authorization"))
            definition_id = as_db_id(request.path_params["definition_id"])
            if definition_id is None:
                raise ValidationError("Not a definition id.", field="definitionId")
            count = await runs.upload_scenarios(
                self._context.db,
                caller.principal,
                definition_id,
                await request.body(),
                _file_format(request),
            )
        except ModeldeskError as exc:
            status = _STATUS.get(exc.code, 400)
            logger.info("scenario upload refused (%d): %s", status, exc)
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            error = {"code": exc.code, "message": exc.message, "details": exc.details}
            return JSONResponse({"error": error}, status_code=status, headers=headers)
        return JSONResponse({"definitionId": str(definition_id), "scenarioCount": count})

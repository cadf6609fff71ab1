"""Ids in UI URLs: one no row could have is a page not found, before any query runs.

Routes name their ids `<thing>_id` (`/settings/models/{model_id}`, `/runs/{run_id:int}`).
A number beyond BIGINT would reach the database and fail there as a server
error, so every router checks them once, here, as `input_rules` checks ids
everywhere else.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import Response

from modeldesk.errors import NotFoundError
from modeldesk.input_rules import as_db_id
from modeldesk.web.rendering import error_response


class ImpossibleRowId(Exception):
    def __init__(self, error: NotFoundError) -> None:
        super().__init__(error.message)
        self.error = error


async def _check_row_ids(request: Request) -> None:
    for name, value in request.path_params.items():
        if name.endswith("_id") and as_db_id(value) is None:
            thing = name.removesuffix("_id").replace("_", " ")
            raise ImpossibleRowId(NotFoundError(f"No {thing} with id {value}."))


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ImpossibleRowId)
    return error_response(request, exc.error)


# Given to every UI router as it is included.
CHECK_ROW_IDS: list[DependsParam] = [Depends(_check_row_ids)]


def answer_impossible_row_ids_with_404(app: FastAPI) -> None:
    app.add_exception_handler(ImpossibleRowId, _not_found)

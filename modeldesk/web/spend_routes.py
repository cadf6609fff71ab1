"""`/spend`: daily spend by provider as a stacked-bar chart, and spend by model.

The figures are `runs.spend.read_spend`'s, the same as GraphQL `spend(from, to)`.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from modeldesk.errors import ModeldeskError, ValidationError
from modeldesk.runs import parse_spend_day, read_spend
from modeldesk.web.dependencies import Db, User
from modeldesk.web.rendering import error_response, form_errors, http_status, render
from modeldesk.web.spend_chart import spend_chart

router = APIRouter()


@router.get("/spend", include_in_schema=False)
async def spend_page(
    request: Request,
    db: Db,
    user: User,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
) -> HTMLResponse:
    values = {"from": start or "", "to": end or ""}
    try:
        spend = await read_spend(db, parse_spend_day(start, "from"), parse_spend_day(end, "to"))
    except ValidationError as exc:
        context = {"section": "spend", "spend": None, "values": values, **form_errors(exc)}
        return render(request, "spend/page.html", context, status_code=http_status(exc))
    except ModeldeskError as exc:
        return error_response(request, exc)
    context = {
        "section": "spend",
        "spend": spend,
        "chart": spend_chart(spend),
        "values": {"from": spend.start.isoformat(), "to": spend.end.isoformat()},
        "errors": {},
        "form_error": None,
    }
    return render(request, "spend/page.html", context)

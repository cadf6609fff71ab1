"""`/providers`: what each provider is doing now, across the whole fleet.

Calls in flight against max parallel, starts in the last minute against
req/min, a hold with its countdown and the 429 that caused it, probes queued,
the last error. The page polls `/providers/live` every 2 s while the tab is
visible (app.js skips polls of a hidden tab). It reads the same service
function as `/metrics` (`runs.fleet_status.provider_activity`), so the two
never disagree.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from modeldesk.runs import provider_activity
from modeldesk.web.dependencies import Db, User
from modeldesk.web.rendering import render

router = APIRouter()


@router.get("/providers", include_in_schema=False)
async def providers_page(request: Request, db: Db, user: User) -> HTMLResponse:
    context = {"section": "providers", "providers": await provider_activity(db)}
    return render(request, "fleet/page.html", context)


@router.get("/providers/live", include_in_schema=False)
async def providers_live(request: Request, db: Db, user: User) -> HTMLResponse:
    """The cards alone, for polling."""
    return render(request, "fleet/_live.html", {"providers": await provider_activity(db)})

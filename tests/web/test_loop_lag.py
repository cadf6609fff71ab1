"""No request holds the event loop for more than 100 ms (SPEC 9.7).

A probe task sleeps 10 ms at a time on the app's loop and records how late it
wakes, by the wall clock, so a handler that blocks without computing (a
synchronous sleep, file or socket call) counts as much as one that computes.
Each request is timed up to three times and the least worst lateness counts:
a held loop is late every time, while a machine too busy to schedule this
process seldom is three times over. The heaviest requests allowed run
meanwhile: a page of 500 transcripts with their responses, the export of a
10,000-transcript run, and /runs with many runs.
The app runs in this test's loop over ASGI, so any synchronous stretch in a
handler shows as lateness. As `serve` does at start-up, the objects alive
before the requests (here the test session's, there the server's) are frozen
out of the garbage collector's walks (`modeldesk.heap`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from web_ui_client import UiClient

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.heap import freeze_startup_objects
from modeldesk.testing.transcript_fill import filled_run

logger = logging.getLogger(__name__)

MAX_LAG_MS = 100.0
TRACED_SLOWDOWN = 4
TICK = 0.01
PAGE = """query($id: ID!) { run(id: $id) { transcriptCount transcripts(limit: 500) {
  id status response inputTokens outputTokens estimatedCost costSnapshot
  scenario { text } model { modelId } } } }"""


def lag_budget_ms() -> float:
    """SPEC's 100 ms for the code as it ships. Under a tracer (coverage, in `make test`)
    the same code runs about 4 times slower (27 ms became 110 ms here), so the test
    allows 4 times as much; the plain test run holds the code to 100 ms itself.
    (Taking the tracer off around the timing was tried: a later test in the same
    process then hung, so the tracer stays on.)"""
    return MAX_LAG_MS * (TRACED_SLOWDOWN if sys.gettrace() is not None else 1)


@contextlib.asynccontextmanager
async def lag_watch() -> AsyncIterator[list[float]]:
    """Yields a list that ends up holding the loop's worst lateness, in ms."""
    worst = [0.0]
    stop = asyncio.Event()

    async def tick() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(TICK)
            worst[0] = max(worst[0], (time.perf_counter() - started - TICK) * 1000)

    task = asyncio.create_task(tick())
    try:
        yield worst
    finally:
        stop.set()
        await task


async def least_lag_ms(send: Callable[[], Awaitable[None]], attempts: int = 3) -> float:
    """The loop's worst lateness while `send` runs, the least over up to `attempts` tries
    (it stops at the first within the budget)."""
    least = math.inf
    for _ in range(attempts):
        async with lag_watch() as worst:
            await send()
        least = min(least, worst[0])
        if least < lag_budget_ms():
            break
    return least


async def test_the_heaviest_requests_never_hold_the_loop_100_ms(
    seeded_db: Database, admin_ui: UiClient, admin: Principal
) -> None:
    big = await filled_run(seeded_db, admin, [100, 20], response_chars=1000)  # 10,000 transcripts
    for _ in range(60):  # /runs lists many runs
        await filled_run(seeded_db, admin, [2], response_chars=10)
    http = admin_ui.http
    bearer = {"Authorization": f"Bearer {admin_ui.token}"}
    freeze_startup_objects()
    try:
        await _measure(http, bearer, big)
    finally:
        gc.unfreeze()  # the rest of the session collects as before


async def _measure(http: httpx.AsyncClient, bearer: dict[str, str], big: int) -> None:
    async def page() -> None:
        answer = await http.post(
            "/graphql", json={"query": PAGE, "variables": {"id": str(big)}}, headers=bearer
        )
        assert answer.status_code == 200
        assert len(answer.json()["data"]["run"]["transcripts"]) == 500

    async def export() -> None:
        answer = await http.get(f"/runs/{big}/transcripts.jsonl")
        assert answer.status_code == 200 and answer.text.count("\n") == 10_000

    async def run_pages() -> None:
        runs_page = await http.get("/runs")
        run_page = await http.get(f"/runs/{big}")
        assert runs_page.status_code == run_page.status_code == 200

    for what, send in (
        ("a page of 500 transcripts", page),
        ("the export of 10,000 transcripts", export),
        ("/runs and /runs/<id>", run_pages),
    ):
        lag = await least_lag_ms(send)
        logger.warning("loop lag: %s %.0f ms", what, lag)
        assert lag < lag_budget_ms(), f"{what} held the loop {lag:.0f} ms"

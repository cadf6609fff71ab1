"""The simulator's HTTP routes: the three provider APIs and the `/_sim` control API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modeldesk.enums import ApiStyle
from modeldesk.testing import simulator_bodies as bodies
from modeldesk.testing.simulator_state import (
    ModelConfig,
    Outcome,
    OutcomeKind,
    RecordedRequest,
    SimulatorState,
    safe_headers,
)


class StopSignal:
    """Tells requests the server is stopping: set from any thread, awaited on the server loop.

    Sleeping and hanging requests wait on it so that `stop()` is immediate
    instead of waiting out a latency or a hang.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._is_set = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            # Each start runs a new event loop; an Event belongs to one loop.
            if self._event is None or self._loop is not loop:
                self._loop, self._event = loop, asyncio.Event()
                if self._is_set:
                    self._event.set()
            event = self._event
        await event.wait()

    def set(self) -> None:
        with self._lock:
            self._is_set = True
            if self._loop is not None and self._event is not None:
                with contextlib.suppress(RuntimeError):  # the loop has already closed
                    self._loop.call_soon_threadsafe(self._event.set)

    def clear(self) -> None:
        with self._lock:
            self._is_set, self._loop, self._event = False, None, None


class SimulatorApp:
    """The ASGI routes over one `SimulatorState`."""

    def __init__(self, state: SimulatorState, stopping: StopSignal) -> None:
        self.state = state
        self.stopping = stopping

    def build(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.openai, methods=["POST"]),
                Route("/v1/messages", self.anthropic, methods=["POST"]),
                Route("/v1beta/models/{target:path}", self.gemini, methods=["POST"]),
                Route("/_sim/models/{model:path}", self.configure, methods=["POST"]),
                Route("/_sim/models/{model:path}", self.show_config, methods=["GET"]),
                Route("/_sim/reset", self.reset, methods=["POST"]),
                Route("/_sim/stats", self.stats, methods=["GET"]),
                Route("/_sim/requests", self.requests, methods=["GET"]),
            ]
        )

    async def openai(self, request: Request) -> Response:
        return await self._serve(request, ApiStyle.OPENAI, None)

    async def anthropic(self, request: Request) -> Response:
        return await self._serve(request, ApiStyle.ANTHROPIC, None)

    async def gemini(self, request: Request) -> Response:
        model, _, action = request.path_params["target"].rpartition(":")
        if action != "generateContent" or not model:
            return JSONResponse(bodies.error(ApiStyle.GEMINI, 404, model, None), status_code=404)
        return await self._serve(request, ApiStyle.GEMINI, model)

    async def _serve(self, request: Request, style: ApiStyle, model: str | None) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        model = model or (body.get("model") if isinstance(body, dict) else None)
        if not isinstance(body, dict) or not isinstance(model, str):
            message = "request body must be a JSON object naming a model"
            return JSONResponse(bodies.error(style, 400, "", message), status_code=400)
        record = RecordedRequest(
            style=style.value.lower(),
            model=model,
            path=request.url.path,
            query=request.url.query,
            headers=safe_headers(request.headers),
            body=body,
            started_at=time.time(),
        )
        config, outcome, tag = self.state.begin(record.style, model, record)
        try:
            if outcome.kind is OutcomeKind.HANG:
                await self._hang(request)
                return Response(status_code=504)
            latency = config.latency if outcome.latency is None else outcome.latency
            await self._wait(latency)
            return self._render(style, model, body, config, outcome)
        finally:
            self.state.end(model, tag)

    async def _wait(self, seconds: float) -> None:
        """Sleep, but give way at once when the server stops."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), seconds)

    async def _hang(self, request: Request) -> None:
        """Hold the request until the client disconnects or the server stops."""

        async def disconnected() -> None:
            # The body is already read, so the next message is the disconnect.
            while (await request.receive())["type"] != "http.disconnect":
                pass

        waiters = [
            asyncio.ensure_future(disconnected()),
            asyncio.ensure_future(self.stopping.wait()),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    @staticmethod
    def _render(
        style: ApiStyle, model: str, body: dict[str, Any], config: ModelConfig, outcome: Outcome
    ) -> Response:
        if outcome.kind is OutcomeKind.MALFORMED:
            return Response(bodies.MALFORMED_BODY, media_type="application/json")
        if outcome.kind in (OutcomeKind.RATE_LIMIT, OutcomeKind.ERROR):
            status = outcome.status or 429
            headers = {"retry-after": outcome.retry_after} if outcome.retry_after else None
            payload = bodies.error(style, status, model, outcome.message)
            return JSONResponse(payload, status_code=status, headers=headers)
        prompt = bodies.prompt_text(style, body)
        text = next((answer for key, answer in config.replies if key in prompt), config.text)
        if text is None:
            text = bodies.default_answer(model, prompt)
        usage = bodies.usage_for(config, prompt, text)
        version = config.model_version or f"{model}-sim"
        blocked = outcome.kind is OutcomeKind.BLOCKED
        payload = bodies.success(
            style, version, text, usage, blocked=blocked, provider=config.provider
        )
        return JSONResponse(payload)

    async def configure(self, request: Request) -> Response:
        try:
            config = ModelConfig.from_json(json.loads(await request.body() or b"{}"))
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        self.state.configure(request.path_params["model"], config)
        return JSONResponse(config.to_json())

    async def show_config(self, request: Request) -> Response:
        return JSONResponse(self.state.config_for(request.path_params["model"]).to_json())

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"ok": True})

    async def stats(self, request: Request) -> Response:
        return JSONResponse(self.state.stats())

    async def requests(self, request: Request) -> Response:
        model = request.query_params.get("model")
        return JSONResponse([r.to_json() for r in self.state.recorded(model)])

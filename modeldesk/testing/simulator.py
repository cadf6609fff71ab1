"""A fake LLM provider over real HTTP, for tests and benchmarks.

It speaks the three API styles at their real paths (OpenAI
`/v1/chat/completions`, Anthropic `/v1/messages`, Gemini
`/v1beta/models/{model}:generateContent`) and answers each model as configured:
latency, a script of outcomes (429s with or without Retry-After, 5xx,
malformed bodies, hangs, 4xx, safety blocks), and usage figures. It counts
concurrent requests per model and per provider tag and records when each
request started, so tests can assert parallelism and requests-per-minute.

In-process (the server runs on a background thread):

    with Simulator() as sim:                      # or: async with Simulator() as sim
        sim.configure("gpt-5-mini", latency=0.05, outcomes=["429", "ok"])
        ... call sim.url ...
        sim.stats()["models"]["gpt-5-mini"]["max_concurrent"]

As a process: `python -m modeldesk.testing.simulator --port N` prints its URL,
and is driven over HTTP (or with `SimulatorControl(url)`, same methods):

    POST /_sim/models/{model}   body: a ModelConfig as JSON; "*" is the default
    GET  /_sim/models/{model}   the model's configuration
    POST /_sim/reset            forget configurations, counters and requests
    GET  /_sim/stats            {"models": {m: {requests, current, max_concurrent,
                                 starts: [epoch seconds]}}, "providers": {tag: {...}}}
    GET  /_sim/requests?model=  recorded requests (credentials as fingerprints)

It binds to 127.0.0.1 only, and never logs or echoes an API key.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn

from modeldesk.testing.simulator_app import SimulatorApp, StopSignal
from modeldesk.testing.simulator_state import (
    ModelConfig,
    RecordedRequest,
    SimulatorState,
)

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


class Simulator:
    """The simulator server; start it with `with`, `async with`, or `start()`/`stop()`.

    `port=0` picks a free port; `url` is known once started.
    """

    def __init__(self, port: int = 0) -> None:
        self.state = SimulatorState()
        self._stopping = StopSignal()
        self.app = SimulatorApp(self.state, self._stopping).build()
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the simulator is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _prepare(self) -> tuple[uvicorn.Server, socket.socket]:
        # Binding the socket ourselves makes the port known before serving starts.
        # The protocol must be named: asyncio only disables Nagle's algorithm on
        # sockets whose proto is IPPROTO_TCP, and with proto 0 every response
        # waits ~40 ms for the client's delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self._requested_port))
        self._socket = sock
        self._stopping.clear()
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        return self._server, sock

    def start(self, timeout: float = 10.0) -> Simulator:
        server, sock = self._prepare()
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="simulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise RuntimeError("the simulator did not start")
            time.sleep(0.005)
        logger.debug("simulator started at %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving; hanging and sleeping requests are released first."""
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = None

    def serve_forever(self, announce: Callable[[str], None] | None = None) -> None:
        """Serve on the calling (main) thread until SIGINT or SIGTERM.

        `announce` receives the URL once the port is bound, before serving.
        """
        server, sock = self._prepare()
        if announce is not None:
            announce(self.url)
        server.run(sockets=[sock])

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> Simulator:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.stop)

    def configure(
        self, model: str, config: ModelConfig | None = None, **fields: Any
    ) -> ModelConfig:
        """Set how `model` answers ("*" for every unconfigured model); see `ModelConfig`.

        Fields are ModelConfig's; outcomes may be `Outcome`s or their string or
        JSON forms ("ok", "429", "503", "malformed", "hang", "blocked").
        """
        config = config or ModelConfig.from_json(fields)
        self.state.configure(model, config)
        return config

    def reset(self) -> None:
        self.state.reset()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def requests(self, model: str | None = None) -> list[RecordedRequest]:
        return self.state.recorded(model)


class SimulatorControl:
    """Drive a simulator in another process over HTTP, with `Simulator`'s methods."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}{path}", timeout=self._timeout, **kwargs)
        response.raise_for_status()
        return response.json()

    def configure(
        self, model: str, config: ModelConfig | None = None, **fields: Any
    ) -> ModelConfig:
        config = config or ModelConfig.from_json(fields)
        self._request("POST", f"/_sim/models/{quote(model, safe='/*')}", json=config.to_json())
        return config

    def reset(self) -> None:
        self._request("POST", "/_sim/reset")

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self._request("GET", "/_sim/stats")
        return stats

    def requests(self, model: str | None = None) -> list[RecordedRequest]:
        params = {"model": model} if model else None
        rows = self._request("GET", "/_sim/requests", params=params)
        return [RecordedRequest(**row) for row in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the modeldesk provider simulator.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    args = parser.parse_args(argv)
    # The URL alone on stdout is this command's interface: scripts read it.
    Simulator(port=args.port).serve_forever(announce=lambda url: print(url, flush=True))  # noqa: T201


if __name__ == "__main__":
    main()

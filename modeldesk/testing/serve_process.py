"""A `modeldesk serve` subprocess for tests that need the real program: its logging, its
signals, its own event loop."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

START_TIMEOUT = 60.0


def wait_until_healthy(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = START_TIMEOUT
) -> None:
    """Return once `url`/healthz answers 200; raise with the process's output if it exits
    first (RuntimeError) or does not answer within `timeout` seconds (TimeoutError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"modeldesk serve exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise TimeoutError(f"modeldesk serve did not start:\n{log.read_text(errors='replace')}")

"""Debian's Chromium for the browser tests and benchmarks; Playwright never downloads one here.

The flags keep it quiet and offline: no sandbox (containers), no GPU, no
background traffic, no update or sync checks, no QUIC.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: Playwright is a test dependency, never imported by the shipped package.
    from playwright.async_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


async def launch_chromium(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))

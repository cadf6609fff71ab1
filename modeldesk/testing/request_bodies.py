"""Request bodies that count how much of them a server read, for tests of body limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass
class CountedBody:
    """`total` bytes of `chunk` repeated, streamed (no Content-Length) to an httpx request;
    `sent` is how many bytes the server pulled, so a test can tell a body refused while
    being read from one read whole."""

    chunk: bytes
    total: int
    sent: int = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            piece = self.chunk[: self.total - self.sent]
            self.sent += len(piece)
            yield piece

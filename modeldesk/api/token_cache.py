"""The principals of tokens seen lately, so an authenticated request needs no token query.

Keyed by the token's hash (the plain token is never kept). Any token change
anywhere empties it (see `change_listener`), and so does losing the LISTEN
connection. Only valid tokens are kept: an unknown one is looked up every time,
so guessing cannot fill memory.
"""

from __future__ import annotations

from modeldesk.auth import Principal


class TokenCache:
    def __init__(self, *, max_entries: int = 1024) -> None:
        self._max_entries = max_entries
        self._principals: dict[str, Principal] = {}
        # Moves on every clear: a lookup that began before a clear must not store its answer.
        self.generation = 0

    def get(self, token_hash: str) -> Principal | None:
        return self._principals.get(token_hash)

    def put(self, token_hash: str, principal: Principal, generation: int) -> None:
        """Keep `principal` unless a token change was heard since `generation` was read."""
        if generation != self.generation:
            return
        if len(self._principals) >= self._max_entries:
            self._principals.clear()
        self._principals[token_hash] = principal

    def clear(self) -> None:
        self._principals.clear()
        self.generation += 1

    def __len__(self) -> int:
        return len(self._principals)

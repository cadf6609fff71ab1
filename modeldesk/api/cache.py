"""The response cache for catalogue reads.

An entry is the exact JSON bytes of a response, keyed on (catalogue version,
role, query text, variables, operation name). Only error-free queries whose root
fields all appear in the schema's cacheable list are stored; their answers
depend only on the catalogue (versioned) and on which API keys this process's
environment holds (fixed for its life).

Why every request still asks PostgreSQL for the version (one shared query on the
LISTEN connection, `ChangeListener.sync`), rather than trusting the version last
heard by NOTIFY:
- SPEC 7 asks for "never a stale read", and the issue for "a mutation is visible
  to the next read in any process". A client can commit a change through process
  A and, having seen A's answer, read through process B before B's event loop
  has read the notification off its socket. That gap is usually well under a
  millisecond on loopback, but nothing bounds it: a busy or paused process B (two
  shared cores, a GC pause, a slow network to a remote database) widens it, and
  within it the last-heard version would answer with the old catalogue.
- Closing the gap from A's side (a mutation returns only once its own NOTIFY is
  heard) only helps reads through A. Only a query by B itself can tell B that
  nothing newer has committed.
- The query is cheap where it runs: on the LISTEN connection, which is
  otherwise idle, without a pool checkout or the pool's reset round trip, and
  shared by every request that arrives while one is in flight (`fresh_read`).
  Because PostgreSQL delivers pending notifications before a query's answer,
  the same query also makes the token cache exact (`request_auth`).
Measured with bench/catalog_latency.py (medians of three runs on the 2-core
development machine): a hit costs 0.33 ms through HTTP, 2.4x the raw fetch of
the same rows; trusting the last-heard version instead measured 0.21 ms (1.5x).
That 0.12 ms is the price of never answering from before a committed change.

The listener also drops superseded entries as soon as a change commits, so
memory holds one version's answers; while its connection is down there is no
version to key on and the cache is not used at all, so no path ever depends on
a notification that may have been missed.

The cache holds at most `max_bytes` (a share of MODELDESK_CACHE_MB): each
entry counts its bodies and its key's text, so no caller can grow it past the
budget with long or many distinct queries (SPEC 9.6). The key is the query as
sent, so a hit costs no parsing; what may be stored is decided from the parsed
document (`documents.CachedDocument.root_fields_if_query`). An entry holds the
answers for each set of variables, so the variables (which may be large) are
encoded only for a query that has an entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from modeldesk.api.documents import text_bytes

# Catalogue version, role, query text, operation name.
CacheKey = tuple[int, str, str, str | None]

INTROSPECTION_TYPENAME = "__typename"
# What a key tuple, an entry and a body's slot cost beyond their text: small objects.
OVERHEAD_BYTES = 256


def encoded_variables(variables: dict[str, Any] | None) -> str:
    return json.dumps(variables, sort_keys=True, separators=(",", ":")) if variables else ""


@dataclass
class _Entry:
    """One operation's answers by encoded variables, and the bytes they all take."""

    size: int
    bodies: dict[str, bytes] = field(default_factory=dict)


def _entry_size(entry: _Entry) -> int:
    return entry.size


class ResponseCache:
    def __init__(self, cacheable_fields: frozenset[str], *, max_bytes: int) -> None:
        self._cacheable = cacheable_fields | {INTROSPECTION_TYPENAME}
        self._entries: LRUCache[CacheKey, _Entry] = LRUCache(max_bytes, getsizeof=_entry_size)
        self._newest_version = -1
        self.hits = 0

    @property
    def current_bytes(self) -> int:
        return int(self._entries.currsize)

    def is_cacheable(self, root_fields: frozenset[str] | None) -> bool:
        """Whether an operation with these root fields (None: not a plain query) may be kept."""
        return bool(root_fields) and root_fields is not None and root_fields <= self._cacheable

    def get(self, key: CacheKey, variables: dict[str, Any] | None) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        body = entry.bodies.get(encoded_variables(variables))
        if body is not None:
            self.hits += 1
        return body

    def put(self, key: CacheKey, variables: dict[str, Any] | None, body: bytes) -> None:
        version, role, query, operation_name = key
        if version < self._newest_version:
            return  # answered from an older version than one already seen; useless
        self.advance(version)
        encoded = encoded_variables(variables)
        entry = self._entries.get(key) or _Entry(
            OVERHEAD_BYTES + text_bytes(role) + text_bytes(query) + text_bytes(operation_name or "")
        )
        if encoded in entry.bodies:
            return
        size = entry.size + OVERHEAD_BYTES + text_bytes(encoded) + len(body)
        if size > self._entries.maxsize:
            return
        entry.bodies[encoded] = body
        entry.size = size
        self._entries[key] = entry  # stored again, so the cache counts its new size

    def advance(self, version: int) -> None:
        """A newer catalogue version exists: every entry keyed on an older one is dead."""
        if version > self._newest_version:
            self._newest_version = version
            self._entries.clear()

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

"""What every resolver receives: who is asking, the database, and per-request DataLoaders.

Loaders live for one request only, so batching and de-duplication never leak
data between callers or serve rows from before a change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from modeldesk.auth import Principal
from modeldesk.context import AppContext
from modeldesk.db.session import Database

K = TypeVar("K")
V = TypeVar("V")

# A batch function answers a whole list of keys with one query, in the keys' order.
BatchFunction = Callable[[Database, list[K]], Awaitable[Sequence[V | BaseException]]]


@dataclass
class RequestContext:
    app: AppContext
    # Always set: the HTTP layer refuses a request before execution when it has no valid token.
    principal: Principal
    _loaders: dict[Callable[..., Any], DataLoader[Any, Any]] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.app.db

    def loader(self, batch: BatchFunction[K, V]) -> DataLoader[K, V]:
        """The request's one DataLoader for `batch`, created on first use.

        Keyed by the batch function itself, so any schema part can define its own
        loaders without registering them in a central list.
        """
        existing = self._loaders.get(batch)
        if existing is None:
            existing = DataLoader(load_fn=partial(batch, self.db))
            self._loaders[batch] = existing
        return existing


Info = strawberry.Info[RequestContext, None]

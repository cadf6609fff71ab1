"""Who is calling, and which catalogue version their read may be answered from.

With the change listener up, a request costs one shared `SELECT version` on the
LISTEN connection (`ChangeListener.sync`), after which the token cache is exact:
a token revoked anywhere before the request arrived has already been dropped
from it. A token not in the cache is looked up with `auth.authenticate_token`,
the one place that decides what a token stands for.

With the listener down, nothing in memory can be trusted: every request looks
its token up, and the caller gets no catalogue version, so the response cache
is not used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from modeldesk.api.change_listener import ChangeListener, ListenerUnavailable
from modeldesk.api.token_cache import TokenCache
from modeldesk.auth import Principal, authenticate_token, bearer_token, hash_token
from modeldesk.db.session import Database
from modeldesk.errors import DatabaseUnavailableError, UnauthenticatedError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    principal: Principal
    # None when changes cannot be heard right now: the response cache must not be used.
    catalog_version: int | None


class RequestAuthenticator:
    def __init__(self, db: Database, listener: ChangeListener, tokens: TokenCache) -> None:
        self._db = db
        self._listener = listener
        self._tokens = tokens

    async def authenticate(self, authorization: str | None) -> Caller:
        token = bearer_token(authorization)
        if token is None:
            raise UnauthenticatedError("Sign in: send 'Authorization: Bearer <token>'.")
        try:
            version: int | None = await self._listener.sync()
        except ListenerUnavailable:
            version = None
        token_hash = hash_token(token)
        if version is not None:
            known = self._tokens.get(token_hash)
            if known is not None:
                return Caller(known, version)
        generation = self._tokens.generation
        principal = await self._look_up(token)
        if version is not None:
            self._tokens.put(token_hash, principal, generation)
        return Caller(principal, version)

    async def _look_up(self, token: str) -> Principal:
        try:
            return await authenticate_token(self._db, token)
        except (OSError, SQLAlchemyError) as exc:
            logger.error("token lookup failed, database unreachable: %s", type(exc).__name__)
            raise DatabaseUnavailableError(
                "The database cannot be reached; try again shortly."
            ) from exc

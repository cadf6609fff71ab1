"""Who is calling, and which catalogue version they will read, in one round trip.

Every request looks its token up (so a revocation applies to the very next
request, in every process) and reads the catalogue version in the same query.
A read that starts after a change has committed therefore always sees the new
version, whatever the timing of the change notification, and the response
cache keyed on it can never answer with data from before the change.

This runs on a small asyncpg pool of its own: it is the one query every request
pays, and going through the ORM session (with its per-checkout ping) would
triple its cost. The token rules (hashed lookup, revoked means refused) are
those of `modeldesk.auth.tokens`, whose hash function it uses.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg  # type: ignore[import-untyped]

from modeldesk.auth.principal import Principal
from modeldesk.auth.tokens import hash_token
from modeldesk.enums import Role
from modeldesk.errors import DatabaseUnavailableError, UnauthenticatedError

logger = logging.getLogger(__name__)

BEARER = "bearer "
_LOOKUP = """
SELECT t.id, t.name, t.role, t.revoked_at IS NOT NULL AS revoked, s.version
FROM catalog_state s
LEFT JOIN api_tokens t ON t.token_hash = $1
WHERE s.id = 1
"""


@dataclass(frozen=True)
class Caller:
    principal: Principal
    catalog_version: int


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization[: len(BEARER)].lower() == BEARER:
        return authorization[len(BEARER) :].strip() or None
    return None


class RequestAuthenticator:
    def __init__(self, dsn: str, *, max_connections: int = 10) -> None:
        self._dsn = dsn
        self._max_connections = max_connections
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=self._max_connections
                    )
        return self._pool

    async def authenticate(self, authorization: str | None) -> Caller:
        token = bearer_token(authorization)
        if token is None:
            raise UnauthenticatedError("Sign in: send 'Authorization: Bearer <token>'.")
        try:
            pool = await self._get_pool()
            row = await pool.fetchrow(_LOOKUP, hash_token(token))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            logger.error("token lookup failed, database unreachable: %s", type(exc).__name__)
            raise DatabaseUnavailableError(
                "The database cannot be reached; try again shortly."
            ) from exc
        assert row is not None  # catalog_state always holds its single row
        if row["id"] is None or row["revoked"]:
            raise UnauthenticatedError("The token is unknown or has been revoked.")
        principal = Principal(name=row["name"], role=Role(row["role"]), token_id=row["id"])
        return Caller(principal=principal, catalog_version=int(row["version"]))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

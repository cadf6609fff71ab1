"""API tokens as GraphQL types; the hash never leaves the database."""

from __future__ import annotations

from datetime import datetime

import strawberry

from modeldesk import enums
from modeldesk.api.ids import to_id
from modeldesk.db import tables


@strawberry.type(name="ApiToken")
class ApiTokenType:
    id: strawberry.ID
    name: str
    role: enums.Role
    token_prefix: str = strawberry.field(description="The first characters, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @strawberry.field
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def from_row(cls, row: tables.ApiToken) -> ApiTokenType:
        return cls(
            id=to_id(row.id),
            name=row.name,
            role=enums.Role(row.role),
            token_prefix=row.token_prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )

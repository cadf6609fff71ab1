"""Token management over GraphQL, admin-only: list, create (the plain token is
returned once, never stored) and revoke. Revocation applies to the very next
request in every process (see `request_auth`); the service audits both changes
and refuses to revoke the last active admin token.
"""

from __future__ import annotations

import strawberry

from modeldesk import auth
from modeldesk.api.context import Info
from modeldesk.api.fields import admin_field, admin_mutation
from modeldesk.api.ids import parse_id
from modeldesk.api.inputs import CreateApiTokenInput
from modeldesk.api.types.tokens import ApiTokenType


@strawberry.type
class CreateApiTokenPayload:
    token: ApiTokenType
    plain_token: str = strawberry.field(
        description="The secret to send as 'Authorization: Bearer'; shown only this once."
    )


@strawberry.type
class RevokeApiTokenPayload:
    token: ApiTokenType


@strawberry.type
class TokenQuery:
    @admin_field
    async def api_tokens(self, info: Info) -> list[ApiTokenType]:
        return [ApiTokenType.from_row(row) for row in await auth.list_tokens(info.context.db)]


@strawberry.type
class TokenMutation:
    @admin_mutation
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        row, plain = await auth.create_token(
            info.context.db, role=input.role, name=input.name, actor=info.context.principal
        )
        return CreateApiTokenPayload(token=ApiTokenType.from_row(row), plain_token=plain)

    @admin_mutation
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> RevokeApiTokenPayload:
        row = await auth.revoke_token(info.context.db, parse_id(id), actor=info.context.principal)
        return RevokeApiTokenPayload(token=ApiTokenType.from_row(row))

from __future__ import annotations

import pytest
from sqlalchemy import select

from modeldesk.auth import (
    authenticate_token,
    create_token,
    has_admin_token,
    list_tokens,
    revoke_token,
)
from modeldesk.db.session import Database
from modeldesk.db.tables import ApiToken
from modeldesk.enums import Role
from modeldesk.errors import (
    ForbiddenError,
    NotFoundError,
    UnauthenticatedError,
    ValidationError,
)


async def test_tokens_are_stored_hashed_and_authenticate_with_their_role(db: Database) -> None:
    assert not await has_admin_token(db)
    row, plain = await create_token(db, role="admin", name="ci")
    assert plain.startswith("mdk_") and len(plain) > 40
    async with db.session() as session:
        stored = list(await session.scalars(select(ApiToken.token_hash)))
    assert stored == [row.token_hash] and plain not in stored[0]
    principal = await authenticate_token(db, plain)
    assert principal.role is Role.ADMIN and principal.name == "ci" and principal.is_admin
    assert await has_admin_token(db)


async def test_viewer_principal_is_refused_admin_actions(db: Database) -> None:
    _, plain = await create_token(db, role=Role.VIEWER, name="reader")
    principal = await authenticate_token(db, plain)
    with pytest.raises(ForbiddenError, match="Only an admin"):
        principal.require_admin("deleting things")


async def test_revoked_unknown_and_missing_tokens_are_unauthenticated(db: Database) -> None:
    row, plain = await create_token(db, role="viewer", name="temp")
    await revoke_token(db, row.id)
    for token in (plain, "mdk_unknown", None, ""):
        with pytest.raises(UnauthenticatedError):
            await authenticate_token(db, token)
    assert [t.revoked_at is not None for t in await list_tokens(db)] == [True]


async def test_token_input_errors(db: Database) -> None:
    with pytest.raises(ValidationError):
        await create_token(db, role="root", name="x")
    with pytest.raises(ValidationError):
        await create_token(db, role="admin", name=" ")
    with pytest.raises(NotFoundError):
        await revoke_token(db, 12345)

"""The first-admin rule: a server with no active admin token makes one and a sign-in code."""

from __future__ import annotations

from modeldesk.auth import create_token, first_admin_sign_in_code, list_tokens
from modeldesk.auth.sessions import redeem_sign_in_code
from modeldesk.db.session import Database


async def test_the_first_admin_is_created_once_and_signs_in_with_the_code(db: Database) -> None:
    code = await first_admin_sign_in_code(db)
    assert code is not None and code.startswith("mdc_")
    principal = await redeem_sign_in_code(db, code)
    assert principal.is_admin and principal.name == "first admin"
    assert await first_admin_sign_in_code(db) is None
    assert [(t.role, t.name) for t in await list_tokens(db)] == [("admin", "first admin")]


async def test_a_viewer_token_alone_does_not_count_as_an_admin(db: Database) -> None:
    await create_token(db, role="viewer", name="reader")
    assert await first_admin_sign_in_code(db) is not None
    assert [(t.role, t.name) for t in await list_tokens(db)] == [
        ("viewer", "reader"),
        ("admin", "first admin"),
    ]

"""Creating and revoking tokens: audited, announced to other processes, and never locking
every admin out."""

from __future__ import annotations

import asyncio
import json

import asyncpg  # type: ignore[import-untyped]
import pytest

from modeldesk.auth import TOKEN_CHANNEL, Principal, create_token, hash_token, revoke_token
from modeldesk.catalog import list_audit_entries
from modeldesk.db.session import Database
from modeldesk.errors import ConflictError, ForbiddenError


async def test_creation_and_revocation_are_audited_without_the_secret(
    db: Database, admin: Principal
) -> None:
    row, plain = await create_token(db, role="viewer", name="ci", actor=admin)
    await revoke_token(db, row.id, actor=admin)

    revoked, created = await list_audit_entries(db, entity_type="token")
    assert (created.actor, created.action, created.entity_id) == (
        "alice",
        "token.create",
        str(row.id),
    )
    assert created.before is None
    assert created.after == {"name": "ci", "role": "viewer", "revoked_at": None}
    assert (revoked.actor, revoked.action, revoked.entity_id) == (
        "alice",
        "token.revoke",
        str(row.id),
    )
    assert revoked.before == created.after
    assert revoked.after is not None and revoked.after["revoked_at"] is not None
    for entry in (created, revoked):
        recorded = json.dumps([entry.before, entry.after])
        for secret in (plain, hash_token(plain), row.token_prefix):
            assert secret not in recorded


async def test_the_cli_and_first_start_act_as_the_system(db: Database) -> None:
    row, _ = await create_token(db, role="admin", name="first admin")
    [entry] = await list_audit_entries(db, entity_type="token")
    assert entry.actor == "system" and entry.entity_id == str(row.id)


async def test_revoking_twice_keeps_the_first_revocation(db: Database, admin: Principal) -> None:
    row, _ = await create_token(db, role="viewer", name="temp", actor=admin)
    first = await revoke_token(db, row.id, actor=admin)
    again = await revoke_token(db, row.id, actor=admin)
    assert again.revoked_at == first.revoked_at
    assert [e.action for e in await list_audit_entries(db)] == ["token.revoke", "token.create"]


async def test_a_viewer_may_neither_create_nor_revoke(db: Database, viewer: Principal) -> None:
    row, _ = await create_token(db, role="viewer", name="victor")
    with pytest.raises(ForbiddenError):
        await create_token(db, role="admin", name="escalation", actor=viewer)
    with pytest.raises(ForbiddenError):
        await revoke_token(db, row.id, actor=viewer)
    assert len(await list_audit_entries(db)) == 1


async def test_the_last_active_admin_token_cannot_be_revoked(db: Database) -> None:
    first, _ = await create_token(db, role="admin", name="first")
    viewer, _ = await create_token(db, role="viewer", name="reader")
    with pytest.raises(ConflictError, match="last active admin token") as refused:
        await revoke_token(db, first.id)
    assert refused.value.code == "CONFLICT"

    await revoke_token(db, viewer.id)  # viewers never count
    second, _ = await create_token(db, role="admin", name="second")
    await revoke_token(db, first.id)
    with pytest.raises(ConflictError):
        await revoke_token(db, second.id)
    actions = [e.action for e in await list_audit_entries(db)]
    assert actions.count("token.revoke") == 2


async def test_two_admins_revoking_each_other_at_once_leave_one(db: Database) -> None:
    tokens = [await create_token(db, role="admin", name=f"admin {n}") for n in range(2)]
    outcomes = await asyncio.gather(
        *(revoke_token(db, row.id) for row, _ in tokens), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ApiToken", "ConflictError"]


async def test_every_token_change_is_notified_at_commit(database_url: str, db: Database) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(database_url)
    try:
        await listener.add_listener(TOKEN_CHANNEL, lambda *args: heard.put_nowait(args[3]))
        row, _ = await create_token(db, role="viewer", name="announced")
        await revoke_token(db, row.id)
        async with asyncio.timeout(5):
            assert [await heard.get(), await heard.get()] == [str(row.id)] * 2
        with pytest.raises(ConflictError):  # a refused revocation announces nothing
            await revoke_token(db, (await create_token(db, role="admin", name="only"))[0].id)
        async with asyncio.timeout(5):
            await heard.get()  # the creation
        await listener.execute("SELECT 1")  # anything else committed would arrive before this
        assert heard.empty()
    finally:
        await listener.close()

"""SPEC section 2 on a real database: create, edit, deprecate, reactivate, set default."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ModelCreate,
    ModelUpdate,
    create_model,
    deprecate_model,
    get_model_by_identifier,
    get_provider_by_name,
    list_audit_entries,
    price_history_by_model_ids,
    reactivate_model,
    set_default_model,
    update_model,
)
from modeldesk.db.session import Database
from modeldesk.db.tables import AuditEntry, LlmModel
from modeldesk.errors import (
    ConflictError,
    ErrorCode,
    ForbiddenError,
    ModelDeprecatedError,
    NotFoundError,
    ValidationError,
)


async def _new_model(
    db: Database, admin: Principal, provider: str, model_id: str, **kw: object
) -> LlmModel:
    provider_row = await get_provider_by_name(db, provider)
    return await create_model(
        db,
        admin,
        ModelCreate.parse(
            provider_id=provider_row.id,
            model_id=model_id,
            display_name=model_id.upper(),
            cost_input_per_million=kw.get("cost_in", "1.5"),
            cost_output_per_million=kw.get("cost_out", "3.25"),
            set_as_default=bool(kw.get("default", False)),
        ),
    )


async def _defaults(db: Database, provider_id: int) -> list[str]:
    async with db.session() as session:
        return list(
            await session.scalars(
                select(LlmModel.model_id).where(
                    LlmModel.provider_id == provider_id, LlmModel.is_default.is_(True)
                )
            )
        )


async def test_create_model_records_price_version_and_audit(
    seeded_db: Database, admin: Principal
) -> None:
    model = await _new_model(seeded_db, admin, "openai", "gpt-6")
    assert model.status == "ACTIVE" and not model.is_default
    assert model.cost_input_per_million == Decimal("1.5")
    history = (await price_history_by_model_ids(seeded_db, [model.id]))[model.id]
    assert len(history) == 1 and history[0].effective_until is None
    entries = await list_audit_entries(seeded_db, entity_type="model")
    assert entries[0].action == "model.create" and entries[0].actor == "alice"
    assert entries[0].after["model_id"] == "gpt-6"


async def test_create_as_default_switches_the_default(
    seeded_db: Database, admin: Principal
) -> None:
    model = await _new_model(seeded_db, admin, "openai", "gpt-6", default=True)
    assert await _defaults(seeded_db, model.provider_id) == ["gpt-6"]


async def test_duplicate_model_id_is_a_conflict(seeded_db: Database, admin: Principal) -> None:
    with pytest.raises(ConflictError) as raised:
        await _new_model(seeded_db, admin, "openai", "gpt-5-mini")
    assert raised.value.code is ErrorCode.CONFLICT


@pytest.mark.parametrize(
    ("field", "value"),
    [("cost_in", "-1"), ("cost_out", "abc"), ("cost_in", "NaN"), ("cost_out", "1e9")],
)
async def test_bad_prices_are_validation_errors(
    seeded_db: Database, admin: Principal, field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        await _new_model(seeded_db, admin, "openai", "gpt-x", **{field: value})
    assert raised.value.code is ErrorCode.VALIDATION_ERROR
    assert raised.value.field in {"costInputPerMillion", "costOutputPerMillion"}


async def test_texts_are_bounded(seeded_db: Database, admin: Principal) -> None:
    with pytest.raises(ValidationError, match="at most 200"):
        await _new_model(seeded_db, admin, "openai", "x" * 201)
    with pytest.raises(ValidationError, match="empty"):
        await _new_model(seeded_db, admin, "openai", "   ")


async def test_unknown_ids_are_not_found(seeded_db: Database, admin: Principal) -> None:
    with pytest.raises(NotFoundError):
        await update_model(seeded_db, admin, 999_999, ModelUpdate(display_name="x"))
    with pytest.raises(NotFoundError):
        await deprecate_model(seeded_db, admin, 999_999)
    with pytest.raises(NotFoundError):
        await create_model(
            seeded_db,
            admin,
            ModelCreate.parse(
                provider_id=999_999,
                model_id="m",
                display_name="m",
                cost_input_per_million=1,
                cost_output_per_million=1,
            ),
        )


async def test_viewers_may_change_nothing(seeded_db: Database, viewer: Principal) -> None:
    mini = await get_model_by_identifier(seeded_db, "openai", "gpt-5-mini")
    for attempt in (
        update_model(seeded_db, viewer, mini.id, ModelUpdate(display_name="x")),
        deprecate_model(seeded_db, viewer, mini.id),
        reactivate_model(seeded_db, viewer, mini.id),
        set_default_model(seeded_db, viewer, mini.id),
    ):
        with pytest.raises(ForbiddenError):
            await attempt


async def test_price_edit_keeps_the_old_version(seeded_db: Database, admin: Principal) -> None:
    mini = await get_model_by_identifier(seeded_db, "openai", "gpt-5-mini")
    updated = await update_model(
        seeded_db, admin, mini.id, ModelUpdate.parse(cost_input_per_million="0.3125")
    )
    assert updated.cost_input_per_million == Decimal("0.3125")
    assert updated.cost_output_per_million == Decimal("2.00")
    history = (await price_history_by_model_ids(seeded_db, [mini.id]))[mini.id]
    assert [v.cost_input_per_million for v in history] == [Decimal("0.3125"), Decimal("0.25")]
    newest, oldest = history
    assert newest.effective_until is None
    assert oldest.effective_until == newest.effective_from


async def test_display_name_edit_opens_no_price_version(
    seeded_db: Database, admin: Principal
) -> None:
    mini = await get_model_by_identifier(seeded_db, "openai", "gpt-5-mini")
    await update_model(seeded_db, admin, mini.id, ModelUpdate.parse(display_name="Mini"))
    history = (await price_history_by_model_ids(seeded_db, [mini.id]))[mini.id]
    assert len(history) == 1


async def test_deprecating_the_default_promotes_the_next_active_model(
    seeded_db: Database, admin: Principal
) -> None:
    mini = await get_model_by_identifier(seeded_db, "openai", "gpt-5-mini")
    result = await deprecate_model(seeded_db, admin, mini.id)
    assert result.was_default
    assert result.model.status == "DEPRECATED" and not result.model.is_default
    assert result.new_default is not None and result.new_default.model_id == "gpt-5.1"
    assert await _defaults(seeded_db, mini.provider_id) == ["gpt-5.1"]


async def test_deprecating_the_last_active_model_leaves_no_default(
    seeded_db: Database, admin: Principal
) -> None:
    gemini = await get_model_by_identifier(seeded_db, "google", "gemini-2.5-pro")
    result = await deprecate_model(seeded_db, admin, gemini.id)
    assert result.was_default and result.new_default is None
    assert await _defaults(seeded_db, gemini.provider_id) == []


async def test_deprecated_model_cannot_be_default_until_reactivated(
    seeded_db: Database, admin: Principal
) -> None:
    big = await get_model_by_identifier(seeded_db, "openai", "gpt-5.1")
    await deprecate_model(seeded_db, admin, big.id)
    with pytest.raises(ModelDeprecatedError) as raised:
        await set_default_model(seeded_db, admin, big.id)
    assert raised.value.code is ErrorCode.MODEL_DEPRECATED
    reactivated = await reactivate_model(seeded_db, admin, big.id)
    assert reactivated.status == "ACTIVE"
    result = await set_default_model(seeded_db, admin, big.id)
    assert result.previous_default is not None
    assert result.previous_default.model_id == "gpt-5-mini"
    assert not result.previous_default.is_default
    assert await _defaults(seeded_db, big.provider_id) == ["gpt-5.1"]


async def test_twenty_concurrent_set_default_calls_leave_exactly_one_default(
    seeded_db: Database, admin: Principal
) -> None:
    models = [await _new_model(seeded_db, admin, "openai", f"m-{i}") for i in range(20)]
    results = await asyncio.gather(*(set_default_model(seeded_db, admin, m.id) for m in models))
    assert len(results) == 20
    defaults = await _defaults(seeded_db, models[0].provider_id)
    assert len(defaults) == 1
    # Each call saw the one before it, so the previous defaults form a single chain.
    previous = [r.previous_default.model_id for r in results if r.previous_default]
    assert len(set(previous)) == 20


async def test_every_change_leaves_an_audit_entry(seeded_db: Database, admin: Principal) -> None:
    async def count() -> int:
        async with seeded_db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)

    model = await _new_model(seeded_db, admin, "anthropic", "claude-x")
    assert await count() == 1
    await update_model(seeded_db, admin, model.id, ModelUpdate.parse(cost_input_per_million=2))
    assert await count() == 2
    await set_default_model(seeded_db, admin, model.id)
    assert await count() == 3
    await deprecate_model(seeded_db, admin, model.id)  # also promotes a new default
    assert await count() == 5
    await reactivate_model(seeded_db, admin, model.id)
    assert await count() == 6
    entries = await list_audit_entries(seeded_db, limit=10)
    assert entries[0].action == "model.reactivate"
    assert entries[0].before["status"] == "DEPRECATED"
    assert entries[0].after["status"] == "ACTIVE"

"""Provider default prices and cached-input prices in the catalogue service: versions and audit.

A model's price edit closes its price version and opens a new one. Provider
default prices have no version table; their history is the audit log, with
the prices before and after each change.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ModelCreate,
    ModelUpdate,
    ProviderCreate,
    ProviderUpdate,
    create_model,
    create_provider,
    current_catalog_version,
    get_provider_by_name,
    list_audit_entries,
    price_history_by_model_ids,
    update_model,
    update_provider,
)
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel
from modeldesk.errors import ForbiddenError, ValidationError


async def _priced_model(db: Database, admin: Principal) -> LlmModel:
    openai = await get_provider_by_name(db, "openai")
    return await create_model(
        db,
        admin,
        ModelCreate.parse(
            provider_id=openai.id,
            model_id="gpt-6",
            display_name="GPT-6",
            cost_input_per_million="1.25",
            cost_output_per_million="10",
            cost_cached_input_per_million="0.125",
        ),
    )


async def test_a_cached_input_price_edit_opens_a_version_and_is_audited(
    seeded_db: Database, admin: Principal
) -> None:
    model = await _priced_model(seeded_db, admin)
    (first,) = (await price_history_by_model_ids(seeded_db, [model.id]))[model.id]
    assert first.cost_cached_input_per_million == Decimal("0.125")
    version = await current_catalog_version(seeded_db)

    edited = await update_model(
        seeded_db, admin, model.id, ModelUpdate.parse(cost_cached_input_per_million="0.1")
    )
    assert edited.cost_cached_input_per_million == Decimal("0.1")
    assert (edited.cost_input_per_million, edited.cost_output_per_million) == (
        Decimal("1.25"),
        Decimal("10"),
    )
    newest, oldest = (await price_history_by_model_ids(seeded_db, [model.id]))[model.id]
    assert newest.cost_cached_input_per_million == Decimal("0.1")
    assert newest.cost_input_per_million == Decimal("1.25")
    assert newest.effective_until is None
    assert oldest.cost_cached_input_per_million == Decimal("0.125")
    assert oldest.effective_until == newest.effective_from
    entry = (await list_audit_entries(seeded_db, entity_type="model"))[0]
    assert (entry.action, entry.actor, entry.entity_id) == ("model.update", "alice", str(model.id))
    assert entry.before["cost_cached_input_per_million"] == "0.125"
    assert entry.after["cost_cached_input_per_million"] == "0.1"
    assert await current_catalog_version(seeded_db) == version + 1


async def test_the_same_cached_price_again_changes_nothing(
    seeded_db: Database, admin: Principal
) -> None:
    model = await _priced_model(seeded_db, admin)
    entries = len(await list_audit_entries(seeded_db))
    await update_model(
        seeded_db, admin, model.id, ModelUpdate.parse(cost_cached_input_per_million="0.1250")
    )
    assert len((await price_history_by_model_ids(seeded_db, [model.id]))[model.id]) == 1
    assert len(await list_audit_entries(seeded_db)) == entries


async def test_provider_default_prices_are_set_and_audited_before_and_after(
    seeded_db: Database, admin: Principal
) -> None:
    openai = await get_provider_by_name(seeded_db, "openai")
    version = await current_catalog_version(seeded_db)
    updated = await update_provider(
        seeded_db,
        admin,
        openai.id,
        ProviderUpdate.parse(default_input_price="1.5", default_output_price="6"),
    )
    assert (updated.default_input_price, updated.default_output_price) == (
        Decimal("1.5"),
        Decimal("6"),
    )
    assert await current_catalog_version(seeded_db) == version + 1
    entry = (await list_audit_entries(seeded_db, entity_type="provider"))[0]
    assert (entry.action, entry.entity_id) == ("provider.update", str(openai.id))
    assert (entry.before["default_input_price"], entry.before["default_output_price"]) == (
        None,
        None,
    )
    assert (entry.after["default_input_price"], entry.after["default_output_price"]) == (
        "1.5",
        "6",
    )

    await update_provider(
        seeded_db, admin, openai.id, ProviderUpdate.parse(default_input_price="2")
    )
    entry = (await list_audit_entries(seeded_db, entity_type="provider"))[0]
    assert (entry.before["default_input_price"], entry.after["default_input_price"]) == (
        "1.5",
        "2",
    )
    assert entry.after["default_output_price"] == "6"  # left as it was

    entries = len(await list_audit_entries(seeded_db))
    await update_provider(
        seeded_db, admin, openai.id, ProviderUpdate.parse(default_input_price="2.00")
    )
    assert len(await list_audit_entries(seeded_db)) == entries  # the same price: no change


async def test_a_provider_created_with_default_prices_is_audited_with_them(
    seeded_db: Database, admin: Principal
) -> None:
    provider = await create_provider(
        seeded_db,
        admin,
        ProviderCreate.parse(
            name="local",
            display_name="Local",
            api_style="OPENAI",
            default_input_price="0.5",
            default_output_price="0",
        ),
    )
    assert (provider.default_input_price, provider.default_output_price) == (
        Decimal("0.5"),
        Decimal("0"),
    )
    entry = (await list_audit_entries(seeded_db, entity_type="provider"))[0]
    assert entry.action == "provider.create"
    assert (entry.after["default_input_price"], entry.after["default_output_price"]) == (
        "0.5",
        "0",
    )


async def test_viewers_cannot_set_prices(
    seeded_db: Database, viewer: Principal, admin: Principal
) -> None:
    openai = await get_provider_by_name(seeded_db, "openai")
    model = await _priced_model(seeded_db, admin)
    with pytest.raises(ForbiddenError):
        await update_provider(
            seeded_db, viewer, openai.id, ProviderUpdate.parse(default_input_price="1")
        )
    with pytest.raises(ForbiddenError):
        await update_model(
            seeded_db, viewer, model.id, ModelUpdate.parse(cost_cached_input_per_million="1")
        )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-0.5", "0 or more"),
        ("abc", "must be a number"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("1000000.01", "at most 1000000"),
        ("0.0000000000001", "at most 12 decimal places"),
        ("1E-20000", "at most 12 decimal places"),
    ],
)
def test_bad_prices_are_refused_naming_the_field(value: str, message: str) -> None:
    refusals = [
        (lambda: ProviderUpdate.parse(default_input_price=value), "defaultCostInputPerMillion"),
        (lambda: ProviderUpdate.parse(default_output_price=value), "defaultCostOutputPerMillion"),
        (
            lambda: ModelUpdate.parse(cost_cached_input_per_million=value),
            "costCachedInputPerMillion",
        ),
    ]
    for parse, field in refusals:
        with pytest.raises(ValidationError, match=message) as refused:
            parse()
        assert refused.value.field == field


@pytest.mark.parametrize(
    ("value", "stored"),
    [("0", Decimal(0)), ("0.000000000001", Decimal("1E-12")), ("2.50000000000000", Decimal("2.5"))],
)
def test_fine_and_padded_prices_are_accepted(value: str, stored: Decimal) -> None:
    assert ProviderUpdate.parse(default_input_price=value).default_input_price == stored

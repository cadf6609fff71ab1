"""Price proposals: the review lists exactly what differs, applying is admin-only, opens
price versions effective now and audits them with the reference's source and version."""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from price_reference_data import DIFFERING, MATCHING, NOT_COMPARED, PROVIDERS, write_prices_file
from sqlalchemy import func, select

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ModelUpdate,
    ProviderCreate,
    create_model,
    create_provider,
    get_model_by_identifier,
    update_model,
)
from modeldesk.catalog.price_proposals import apply_price_proposals, review_prices
from modeldesk.catalog.price_sets import quote_of
from modeldesk.catalog.prices import price_history_by_model_ids
from modeldesk.catalog.reference_catalog import model_create_from_reference, provider_reference
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.db.tables import AuditEntry, LlmModelPriceVersion
from modeldesk.errors import ErrorCode, ForbiddenError, ModeldeskError, ValidationError
from modeldesk.llm import LongContextTier

D = Decimal


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(prices_file=write_prices_file(tmp_path / "data.json"))


async def _pk(db: Database, identifier: str) -> int:
    provider, model_id = identifier.split("/", 1)
    return (await get_model_by_identifier(db, provider, model_id)).id


async def _versions(db: Database, model_id: int) -> list[LlmModelPriceVersion]:
    """Oldest first."""
    return list(reversed((await price_history_by_model_ids(db, [model_id]))[model_id]))


async def test_check_lists_exactly_the_differing_models(
    seeded_db: Database, settings: Settings
) -> None:
    review = await review_prices(seeded_db, settings)
    assert {p.identifier for p in review.proposals} == DIFFERING
    assert {u.identifier for u in review.unmatched} == NOT_COMPARED
    assert review.matching == len(MATCHING)
    assert review.source == str(settings.prices_file)
    assert "sha256:" in review.source_version

    by_id = {p.identifier: p for p in review.proposals}
    assert by_id["openai/gpt-5-mini"].differences == ("costCachedInputPerMillion",)
    sonnet = by_id["anthropic/claude-sonnet-4-5"]
    assert sonnet.differences == (
        "costCachedInputPerMillion",
        "costCacheWritePerMillion",
        "longContextTier",
    )
    assert sonnet.proposed.long_context_tier == LongContextTier(
        200_000, D("6"), D("0.6"), D("7.5"), D("22.5")
    )
    chat = by_id["deepseek/deepseek-chat"]
    # The rate of 16 hours a day, not the off-peak one; and it says so.
    assert (chat.proposed.input_per_million, chat.proposed.output_per_million) == (
        D("0.3"),
        D("0.45"),
    )
    assert chat.reference.note is not None and "16 h a day" in chat.reference.note

    reasons = {u.identifier: u.reason for u in review.unmatched}
    assert "2 long-context tiers" in reasons["anthropic/claude-haiku-4-5"]
    assert "fee per request" in reasons["google/gemini-2.5-pro"]
    assert "knows no model" in reasons["mistral/mistral-large-2512"]


async def test_apply_opens_versions_effective_now_and_audits_them(
    seeded_db: Database, admin: Principal, settings: Settings
) -> None:
    sonnet = await _pk(seeded_db, "anthropic/claude-sonnet-4-5")
    mini = await _pk(seeded_db, "openai/gpt-5-mini")
    applied = await apply_price_proposals(seeded_db, admin, settings, [sonnet, mini])
    assert {p.identifier for p in applied} == {
        "anthropic/claude-sonnet-4-5",
        "openai/gpt-5-mini",
    }

    first, second = await _versions(seeded_db, sonnet)
    assert first.effective_until == second.effective_from  # closed as the new one opened
    assert second.effective_until is None
    proposed = next(p for p in applied if p.model.id == sonnet).proposed
    assert replace(quote_of(second), price_version_id=None) == proposed
    assert second.long_context_threshold == 200_000
    assert second.long_context_cost_output_per_million == D("22.5")
    assert second.cost_cache_write_per_million == D("3.75")

    async with seeded_db.session() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "model.apply_price_proposal")
            )
        )
    assert {int(entry.entity_id) for entry in entries} == {sonnet, mini}
    for entry in entries:
        assert entry.actor == admin.name
        assert entry.after["source"] == str(settings.prices_file)
        assert entry.after["sourceVersion"] == applied[0].source_version
    sonnet_entry = next(entry for entry in entries if int(entry.entity_id) == sonnet)
    assert sonnet_entry.before["cost_cache_write_per_million"] is None
    assert sonnet_entry.after["cost_cache_write_per_million"] == "3.75"

    review = await review_prices(seeded_db, settings)
    assert {p.identifier for p in review.proposals} == {"deepseek/deepseek-chat"}


async def test_a_viewer_cannot_apply(
    seeded_db: Database, viewer: Principal, settings: Settings
) -> None:
    with pytest.raises(ForbiddenError):
        await apply_price_proposals(seeded_db, viewer, settings)
    assert {p.identifier for p in (await review_prices(seeded_db, settings)).proposals} == DIFFERING


async def test_naming_a_model_without_a_proposal_applies_nothing(
    seeded_db: Database, admin: Principal, settings: Settings
) -> None:
    ids = [await _pk(seeded_db, "openai/gpt-5-mini"), await _pk(seeded_db, "openai/gpt-5.1")]
    with pytest.raises(ValidationError, match=r"openai/gpt-5\.1"):
        await apply_price_proposals(seeded_db, admin, settings, ids)
    with pytest.raises(ValidationError, match="No model with id"):
        await apply_price_proposals(seeded_db, admin, settings, [10_000])
    async with seeded_db.session() as session:
        versions = await session.scalar(select(func.count()).select_from(LlmModelPriceVersion))
    assert versions == 10  # one per seeded model: nothing was applied


async def test_apply_all_then_an_edit_is_the_only_difference(
    seeded_db: Database, admin: Principal, settings: Settings
) -> None:
    assert len(await apply_price_proposals(seeded_db, admin, settings)) == len(DIFFERING)
    assert (await review_prices(seeded_db, settings)).proposals == []
    mini = await _pk(seeded_db, "openai/gpt-5-mini")
    await update_model(seeded_db, admin, mini, ModelUpdate.parse(cost_input_per_million="0.3"))
    [proposal] = (await review_prices(seeded_db, settings)).proposals
    assert proposal.identifier == "openai/gpt-5-mini"
    assert proposal.differences == ("costInputPerMillion",)


async def test_a_reseller_takes_the_prices_of_its_reference_provider(
    seeded_db: Database, admin: Principal, settings: Settings
) -> None:
    provider = await create_provider(
        seeded_db,
        admin,
        ProviderCreate.parse(
            name="resold",
            display_name="Resold Claude",
            api_style="ANTHROPIC",
            base_url="http://127.0.0.1:9",
            reference_provider="Anthropic",
        ),
    )
    assert provider.reference_provider == "anthropic"
    data = await model_create_from_reference(
        seeded_db, settings, provider_id=provider.id, model_id="claude-sonnet-4-5"
    )
    model = await create_model(seeded_db, admin, data)
    assert model.display_name == "Claude Sonnet 4.5"
    prices = quote_of(model)
    assert (prices.input_per_million, prices.cache_write_per_million) == (D("3"), D("3.75"))
    assert prices.long_context_tier == LongContextTier(
        200_000, D("6"), D("0.6"), D("7.5"), D("22.5")
    )
    [version] = await _versions(seeded_db, model.id)
    assert version.long_context_cost_input_per_million == D("6")
    identifiers = {p.identifier for p in (await review_prices(seeded_db, settings)).proposals}
    assert "resold/claude-sonnet-4-5" not in identifiers  # created with the reference's prices

    reference = await provider_reference(seeded_db, settings, provider.id)
    assert reference.reference_provider == "anthropic"
    assert {m.model_id for m in reference.models} == {"claude-sonnet-4-5", "claude-haiku-4-5"}


async def test_from_reference_refuses_unknown_and_unrepresentable_models(
    seeded_db: Database, settings: Settings
) -> None:
    google = (await get_model_by_identifier(seeded_db, "google", "gemini-2.5-pro")).provider_id
    for model_id, message in (("gemini-9", "know no model"), ("gemini-2.5-pro", "fee per request")):
        with pytest.raises(ValidationError, match=message) as refused:
            await model_create_from_reference(
                seeded_db, settings, provider_id=google, model_id=model_id
            )
        assert refused.value.field == "modelId"


async def test_a_changed_file_is_read_again_and_a_broken_one_is_refused(
    seeded_db: Database, settings: Settings
) -> None:
    assert settings.prices_file is not None
    first = await review_prices(seeded_db, settings)
    changed = [dict(provider) for provider in PROVIDERS]
    changed[0] = {**changed[0], "models": changed[0]["models"][1:]}  # gpt-5-mini gone
    write_prices_file(settings.prices_file, changed)
    stat = settings.prices_file.stat()
    os.utime(settings.prices_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = await review_prices(seeded_db, settings)
    assert second.source_version != first.source_version
    assert "openai/gpt-5-mini" in {u.identifier for u in second.unmatched}

    settings.prices_file.write_text('{"not": "a provider list"}')
    with pytest.raises(ModeldeskError) as refused:
        await review_prices(seeded_db, settings)
    assert refused.value.code is ErrorCode.VALIDATION_ERROR
    assert "MODELDESK_PRICES_FILE" in refused.value.message

"""Price proposals: where the catalogue's prices differ from the reference, reviewed, never silent.

`review_prices` compares every active model's current prices with the
reference's and lists the differences, and the models the reference does not
know (or prices in a way this catalogue cannot hold). Nothing changes until an
admin applies proposals: `apply_price_proposals` recomputes each one under
the model's lock (so it applies what the reference says now, not what a page
showed earlier), writes the prices, opens a price version effective now and
audits it with the reference's source and version. Transcripts keep the
snapshots they were charged by.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from modeldesk.auth import Principal
from modeldesk.catalog.audit import CatalogChange, model_snapshot, record_catalog_changes
from modeldesk.catalog.price_sets import columns_of, quote_of
from modeldesk.catalog.reference_prices import (
    ReferenceData,
    ReferenceModel,
    find_reference_model,
    load_reference,
    reference_provider_of,
)
from modeldesk.config import Settings
from modeldesk.db.price_versions import open_price_version
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider
from modeldesk.enums import ModelStatus
from modeldesk.errors import ValidationError
from modeldesk.llm import LongContextTier, PriceQuote

logger = logging.getLogger(__name__)

# The parts of a price set, by their API names, in the order they are shown, with labels.
PART_LABELS = {
    "costInputPerMillion": "input",
    "costOutputPerMillion": "output",
    "costCachedInputPerMillion": "cached input",
    "costCacheWritePerMillion": "cache write",
    "longContextTier": "long-context tier",
}
PRICE_PARTS = tuple(PART_LABELS)


def _price(value: Decimal | None) -> str:
    return "none" if value is None else f"{value.normalize():f}"


def _tier(tier: LongContextTier | None) -> str:
    if tier is None:
        return "none"
    parts = (
        ("input", tier.input_per_million),
        ("cached input", tier.cached_input_per_million),
        ("cache write", tier.cache_write_per_million),
        ("output", tier.output_per_million),
    )
    prices = ", ".join(f"{name} {_price(value)}" for name, value in parts if value is not None)
    return f"over {tier.threshold_tokens:,} prompt tokens: {prices}"


def describe_part(prices: PriceQuote, part: str) -> str:
    """One part of a price set in words, USD per million tokens (for the CLI and the UI)."""
    if part == "longContextTier":
        return _tier(prices.long_context_tier)
    value = {
        "costInputPerMillion": prices.input_per_million,
        "costOutputPerMillion": prices.output_per_million,
        "costCachedInputPerMillion": prices.cached_input_per_million,
        "costCacheWritePerMillion": prices.cache_write_per_million,
    }[part]
    return _price(value)


@dataclass(frozen=True)
class _ModelOfProvider:
    model: LlmModel
    provider: LlmProvider

    @property
    def identifier(self) -> str:
        return f"{self.provider.name}/{self.model.model_id}"


@dataclass(frozen=True)
class PriceProposal(_ModelOfProvider):
    current: PriceQuote
    proposed: PriceQuote
    # The PRICE_PARTS that differ.
    differences: tuple[str, ...]
    reference: ReferenceModel
    source: str
    source_version: str


@dataclass(frozen=True)
class UnmatchedModel(_ModelOfProvider):
    """An active model the review could not compare, and why."""

    reason: str


@dataclass(frozen=True)
class PriceReview:
    source: str
    source_version: str
    proposals: list[PriceProposal]
    unmatched: list[UnmatchedModel]
    # Active models whose prices are the reference's already.
    matching: int


def _normalized(prices: PriceQuote) -> PriceQuote:
    """The same billing with one spelling: a tier price equal to the base is "unset" (the base
    applies anyway), and a tier with no price of its own is no tier."""
    tier = prices.long_context_tier
    if tier is not None:
        own = LongContextTier(
            threshold_tokens=tier.threshold_tokens,
            input_per_million=_unless_equal(tier.input_per_million, prices.input_per_million),
            cached_input_per_million=_unless_equal(
                tier.cached_input_per_million, prices.cached_input_per_million
            ),
            cache_write_per_million=_unless_equal(
                tier.cache_write_per_million, prices.cache_write_per_million
            ),
            output_per_million=_unless_equal(tier.output_per_million, prices.output_per_million),
        )
        has_own = any(
            price is not None
            for price in (
                own.input_per_million,
                own.cached_input_per_million,
                own.cache_write_per_million,
                own.output_per_million,
            )
        )
        tier = own if has_own else None
    return PriceQuote(
        prices.input_per_million,
        prices.output_per_million,
        prices.cached_input_per_million,
        None,
        prices.cache_write_per_million,
        tier,
    )


def _unless_equal(tier_price: Decimal | None, base: Decimal | None) -> Decimal | None:
    return None if tier_price == base else tier_price


def price_differences(current: PriceQuote, proposed: PriceQuote) -> tuple[str, ...]:
    """The PRICE_PARTS in which two price sets bill differently (2.50 and 2.5 are equal)."""
    a, b = _normalized(current), _normalized(proposed)
    pairs = (
        (a.input_per_million, b.input_per_million),
        (a.output_per_million, b.output_per_million),
        (a.cached_input_per_million, b.cached_input_per_million),
        (a.cache_write_per_million, b.cache_write_per_million),
        (a.long_context_tier, b.long_context_tier),
    )
    return tuple(part for part, (x, y) in zip(PRICE_PARTS, pairs, strict=True) if x != y)


def _compare(
    data: ReferenceData, model: LlmModel, provider: LlmProvider, now: datetime
) -> PriceProposal | UnmatchedModel | None:
    """A proposal, an unmatched model, or None when the prices are the reference's."""
    reference_name = reference_provider_of(provider)
    found = find_reference_model(data, reference_name, model.model_id, now)
    if found is None:
        reason = f"the reference knows no model {model.model_id!r} at {reference_name!r}"
        return UnmatchedModel(model, provider, reason)
    if found.prices is None:
        reason = f"{found.provider_id}/{found.model_id}: {found.problem}"
        return UnmatchedModel(model, provider, reason)
    current = quote_of(model)
    differences = price_differences(current, found.prices)
    if not differences:
        return None
    return PriceProposal(
        model, provider, current, found.prices, differences, found, data.source, data.version
    )


async def _active_models(session: AsyncSession) -> list[tuple[LlmModel, LlmProvider]]:
    rows = await session.execute(
        select(LlmModel, LlmProvider)
        .join(LlmProvider, LlmProvider.id == LlmModel.provider_id)
        .where(LlmModel.status == ModelStatus.ACTIVE.value)
        .order_by(LlmProvider.id, LlmModel.id)
    )
    return [(model, provider) for model, provider in rows.all()]


async def review_prices(db: Database, settings: Settings) -> PriceReview:
    """Every active model compared with the reference; any signed-in user may look."""
    data = await load_reference(settings)
    now = datetime.now(UTC)
    async with db.session() as session:
        rows = await _active_models(session)
    proposals: list[PriceProposal] = []
    unmatched: list[UnmatchedModel] = []
    for model, provider in rows:
        outcome = _compare(data, model, provider, now)
        if isinstance(outcome, PriceProposal):
            proposals.append(outcome)
        elif isinstance(outcome, UnmatchedModel):
            unmatched.append(outcome)
    matching = len(rows) - len(proposals) - len(unmatched)
    return PriceReview(data.source, data.version, proposals, unmatched, matching)


async def _lock(
    session: AsyncSession, model_ids: Sequence[int]
) -> list[tuple[LlmModel, LlmProvider]]:
    """Lock the models' providers, then the models: the catalogue's lock order."""
    provider_ids = await session.scalars(
        select(LlmModel.provider_id).where(LlmModel.id.in_(model_ids)).distinct()
    )
    providers = {
        provider.id: provider
        for provider in await session.scalars(
            select(LlmProvider)
            .where(LlmProvider.id.in_(list(provider_ids)))
            .order_by(LlmProvider.id)
            .with_for_update()
        )
    }
    models = await session.scalars(
        select(LlmModel).where(LlmModel.id.in_(model_ids)).order_by(LlmModel.id).with_for_update()
    )
    return [(model, providers[model.provider_id]) for model in models]


async def _apply(session: AsyncSession, proposal: PriceProposal) -> CatalogChange:
    """Set the model's prices to the proposal's; the change names where they came from."""
    model = proposal.model
    before = model_snapshot(model)
    for column, value in columns_of(proposal.proposed).items():
        setattr(model, column, value)
    await session.flush()
    await open_price_version(session, model)
    await session.refresh(model)
    after = {
        **model_snapshot(model),
        "source": proposal.source,
        "sourceVersion": proposal.source_version,
        "referenceModel": f"{proposal.reference.provider_id}/{proposal.reference.model_id}",
        "changed": list(proposal.differences),
    }
    return CatalogChange("model.apply_price_proposal", "model", model.id, before, after)


async def apply_price_proposals(
    db: Database, actor: Principal, settings: Settings, model_ids: Sequence[int] | None = None
) -> list[PriceProposal]:
    """Apply the proposals of `model_ids`, or every proposal with None; returns those applied.

    A model named here without a proposal (unknown to the reference, prices
    already the reference's, deprecated) refuses the whole call with
    VALIDATION_ERROR naming it, and nothing changes.
    """
    actor.require_admin("applying price proposals")
    data = await load_reference(settings)
    now = datetime.now(UTC)
    applied: list[PriceProposal] = []
    async with db.transaction() as session:
        wanted = (
            [m.id for m, _ in await _active_models(session)] if model_ids is None else model_ids
        )
        rows = await _lock(session, sorted(set(wanted)))
        missing = sorted(set(wanted) - {model.id for model, _ in rows})
        if missing:
            raise ValidationError(f"No model with id {missing[0]}.", field="modelIds")
        refused: list[str] = []
        for model, provider in rows:
            outcome = None
            if model.status == ModelStatus.ACTIVE.value:
                outcome = _compare(data, model, provider, now)
            if isinstance(outcome, PriceProposal):
                applied.append(outcome)
            else:
                refused.append(f"{provider.name}/{model.model_id}")
        if refused and model_ids is not None:
            raise ValidationError(
                "No price proposal for " + ", ".join(refused) + ": nothing was applied.",
                field="modelIds",
            )
        changes = [await _apply(session, proposal) for proposal in applied]
        if changes:
            await record_catalog_changes(session, actor, *changes)
    for proposal in applied:
        logger.info(
            "prices of %s set from %s %s by %s: %s",
            proposal.identifier,
            proposal.source,
            proposal.source_version,
            actor.name,
            ", ".join(proposal.differences),
        )
    return applied

"""`modeldesk prices check` and `modeldesk prices apply`: price proposals from the terminal.

`check` only reads: each model whose prices differ from the reference (current
-> proposed, part by part, with the source and data version) and each model
the reference does not know or prices in a way this catalogue cannot hold. It
exits 0 either way; differences are proposals, not errors. `apply` applies
the named proposals (or all) through the same service as the API and the UI,
as the `cli` actor in the audit log. These return the lines; `cli` prints them.
"""

from __future__ import annotations

from collections.abc import Sequence

from modeldesk.auth import Principal
from modeldesk.catalog import (
    PART_LABELS,
    PriceProposal,
    PriceReview,
    apply_price_proposals,
    describe_part,
    get_model_by_identifier,
    list_providers,
    load_reference,
    provider_model_counts,
    reference_provider_of,
    review_prices,
)
from modeldesk.context import AppContext
from modeldesk.errors import ValidationError


def proposal_lines(proposal: PriceProposal) -> list[str]:
    reference = proposal.reference
    lines = [f"{proposal.identifier} ({proposal.model.display_name})"]
    for part in proposal.differences:
        current = describe_part(proposal.current, part)
        proposed = describe_part(proposal.proposed, part)
        lines.append(f"    {PART_LABELS[part]}: {current} -> {proposed}")
    lines.append(
        f"    source: {proposal.source} {proposal.source_version} "
        f"({reference.provider_id}/{reference.model_id})"
    )
    if reference.note:
        lines.append(f"    note: {reference.note}")
    return lines


def review_lines(review: PriceReview) -> list[str]:
    total = len(review.proposals) + len(review.unmatched) + review.matching
    lines = [
        f"{total} active models: {len(review.proposals)} differ from the reference, "
        f"{len(review.unmatched)} not known to it, {review.matching} match it."
    ]
    for proposal in review.proposals:
        lines.extend(["", *proposal_lines(proposal)])
    if review.unmatched:
        lines.extend(["", "Not known to the reference (or not representable here):"])
        lines.extend(f"    {item.identifier}: {item.reason}" for item in review.unmatched)
    return lines


async def prices_check(context: AppContext) -> list[str]:
    """What `modeldesk prices check` prints."""
    data = await load_reference(context.settings)
    counts = provider_model_counts(data)
    lines = [f"Reference prices: {data.source} {data.version} (USD per million tokens)"]
    for provider in await list_providers(context.db):
        name = reference_provider_of(provider)
        known = counts.get(name)
        listed = f"{known} models" if known is not None else "no such provider"
        lines.append(f"    {provider.name} -> {name}: {listed}")
    review = await review_prices(context.db, context.settings)
    return [*lines, *review_lines(review)]


async def prices_apply(
    context: AppContext, apply_all: bool, identifiers: Sequence[str]
) -> list[str]:
    """Apply proposals (all, or those of `provider/model_id` identifiers); what it prints."""
    model_ids: list[int] | None = None
    if not apply_all:
        model_ids = []
        for identifier in identifiers:
            provider_name, slash, model_id = identifier.partition("/")
            if not slash or not model_id:
                raise ValidationError(f"{identifier!r} is not provider/model_id.")
            model = await get_model_by_identifier(context.db, provider_name, model_id)
            model_ids.append(model.id)
    actor = Principal.system("cli")
    applied = await apply_price_proposals(context.db, actor, context.settings, model_ids)
    lines: list[str] = []
    if not applied:
        lines.append("No price proposals: every active model's prices are the reference's.")
    for proposal in applied:
        first, *rest = proposal_lines(proposal)
        lines.extend([f"applied {first}", *rest])
    lines.append(
        f"{len(applied)} price proposals applied; each opened a price version effective now."
    )
    return lines

"""Price proposals over GraphQL: `priceProposals` (any signed-in user) and
`applyPriceProposals(modelIds)` (admin).

Both call `catalog.price_proposals`, as the CLI and the UI do. Neither is in the
response cache: the answer depends on the reference data as well as the catalogue.
"""

from __future__ import annotations

import strawberry

from modeldesk.api.context import Info
from modeldesk.api.fields import admin_mutation, described
from modeldesk.api.ids import parse_id
from modeldesk.api.types.catalog import LlmModelType
from modeldesk.api.types.prices import ModelPricesType
from modeldesk.catalog import PriceProposal, apply_price_proposals, review_prices
from modeldesk.errors import ValidationError

MAX_MODEL_IDS = 1000


@strawberry.type(
    name="PriceProposal",
    description="A model whose prices differ from the reference prices, and what they would be.",
)
class PriceProposalType:
    model: LlmModelType
    current: ModelPricesType
    proposed: ModelPricesType
    differences: list[str] = strawberry.field(
        description="The ModelPrices fields that differ, e.g. costCacheWritePerMillion."
    )
    source: str = strawberry.field(
        description="genai-prices (the bundled data) or the MODELDESK_PRICES_FILE path."
    )
    source_version: str = strawberry.field(
        description="The genai-prices version, or the file's date and digest."
    )
    reference_model: str = strawberry.field(
        description="The reference's provider/model the prices come from."
    )
    note: str | None = strawberry.field(
        description="A simplification of the reference's prices, such as time-of-day rates."
    )

    @classmethod
    def from_proposal(cls, proposal: PriceProposal) -> PriceProposalType:
        reference = proposal.reference
        return cls(
            model=LlmModelType.from_row(proposal.model, proposal.provider),
            current=ModelPricesType.from_quote(proposal.current),
            proposed=ModelPricesType.from_quote(proposal.proposed),
            differences=list(proposal.differences),
            source=proposal.source,
            source_version=proposal.source_version,
            reference_model=f"{reference.provider_id}/{reference.model_id}",
            note=reference.note,
        )


@strawberry.type
class ApplyPriceProposalsPayload:
    models: list[LlmModelType] = strawberry.field(
        description="The models whose proposals were applied, with their new prices."
    )


@strawberry.type
class PriceQuery:
    @described("Every active model whose prices differ from the reference prices.")
    async def price_proposals(self, info: Info) -> list[PriceProposalType]:
        review = await review_prices(info.context.db, info.context.app.settings)
        return [PriceProposalType.from_proposal(proposal) for proposal in review.proposals]


@strawberry.type
class PriceMutation:
    @admin_mutation
    async def apply_price_proposals(
        self, info: Info, model_ids: list[strawberry.ID]
    ) -> ApplyPriceProposalsPayload:
        """Apply these models' proposals: new price versions effective now, audited."""
        if len(model_ids) > MAX_MODEL_IDS:
            raise ValidationError(
                f"modelIds may name at most {MAX_MODEL_IDS} models.", field="modelIds"
            )
        ids = [parse_id(model_id, "modelIds") for model_id in model_ids]
        ctx = info.context
        applied = await apply_price_proposals(ctx.db, ctx.principal, ctx.app.settings, ids)
        return ApplyPriceProposalsPayload(
            models=[LlmModelType.from_row(p.model, p.provider) for p in applied]
        )

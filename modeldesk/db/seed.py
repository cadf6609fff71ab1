"""The seed catalogue (SPEC section 5).

Seeding inserts what is missing and never touches what exists, so running it
again, or after an operator edited a price or a limit, changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from modeldesk.db.catalog_version import bump_catalog_version
from modeldesk.db.price_versions import open_price_version
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider, SystemSetting
from modeldesk.enums import ApiStyle

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeedProvider:
    name: str
    display_name: str
    api_style: ApiStyle
    api_key_env: str
    max_parallel_requests: int
    requests_per_minute: int
    models: tuple[tuple[str, str, str, str], ...]  # model id, display name, input, output
    # The genai-prices provider id, where it is not the provider's own name.
    reference_provider: str | None = None


SEED_PROVIDERS: tuple[SeedProvider, ...] = (
    SeedProvider("openai", "OpenAI", ApiStyle.OPENAI, "OPENAI_API_KEY", 5, 60, (
        ("gpt-5-mini", "GPT-5 mini", "0.25", "2.00"),
        ("gpt-5.1", "GPT-5.1", "1.25", "10.00"),
    )),
    SeedProvider("anthropic", "Anthropic", ApiStyle.ANTHROPIC, "ANTHROPIC_API_KEY", 3, 40, (
        ("claude-haiku-4-5", "Claude Haiku 4.5", "1.00", "5.00"),
        ("claude-sonnet-4-5", "Claude Sonnet 4.5", "3.00", "15.00"),
    )),
    SeedProvider("xai", "xAI", ApiStyle.OPENAI, "XAI_API_KEY", 2, 30, (
        ("grok-4-1-fast-reasoning", "Grok 4.1 Fast Reasoning", "0.20", "0.50"),
        ("grok-4-0709", "Grok 4", "3.00", "15.00"),
    ), reference_provider="x-ai"),
    SeedProvider("google", "Google", ApiStyle.GEMINI, "GOOGLE_API_KEY", 1, 10, (
        ("gemini-2.5-pro", "Gemini 2.5 Pro", "1.25", "10.00"),
    )),
    SeedProvider("deepseek", "DeepSeek", ApiStyle.OPENAI, "DEEPSEEK_API_KEY", 2, 30, (
        ("deepseek-chat", "DeepSeek Chat", "0.28", "0.42"),
        ("deepseek-reasoner", "DeepSeek Reasoner", "0.28", "0.42"),
    )),
    SeedProvider("mistral", "Mistral", ApiStyle.OPENAI, "MISTRAL_API_KEY", 2, 30, (
        ("mistral-large-2512", "Mistral Large 3", "0.50", "1.50"),
    )),
)  # fmt: skip

SEED_SETTINGS = {
    "infra_model_scenario_expansion": {"providerName": "openai", "modelId": "gpt-5-mini"},
}


async def seed_catalog(db: Database) -> int:
    """Insert the missing seed rows; returns how many rows were added."""
    added = 0
    async with db.transaction() as session:
        for seed in SEED_PROVIDERS:
            provider_id = await session.scalar(
                insert(LlmProvider)
                .values(
                    name=seed.name,
                    display_name=seed.display_name,
                    api_style=seed.api_style.value,
                    api_key_env=seed.api_key_env,
                    max_parallel_requests=seed.max_parallel_requests,
                    requests_per_minute=seed.requests_per_minute,
                    reference_provider=seed.reference_provider,
                )
                .on_conflict_do_nothing(index_elements=[LlmProvider.name])
                .returning(LlmProvider.id)
            )
            if provider_id is None:
                continue  # the provider exists: its models are the operator's to manage
            added += 1
            for position, (model_id, display_name, cost_in, cost_out) in enumerate(seed.models):
                model = LlmModel(
                    provider_id=provider_id,
                    model_id=model_id,
                    display_name=display_name,
                    cost_input_per_million=Decimal(cost_in),
                    cost_output_per_million=Decimal(cost_out),
                    is_default=position == 0,
                )
                session.add(model)
                await session.flush()
                await open_price_version(session, model)
                added += 1
        for key, value in SEED_SETTINGS.items():
            inserted = await session.scalar(
                insert(SystemSetting)
                .values(key=key, value=value)
                .on_conflict_do_nothing(index_elements=[SystemSetting.key])
                .returning(SystemSetting.key)
            )
            added += inserted is not None
        if added:
            await bump_catalog_version(session)
    logger.info("seed added %d rows", added)
    return added


async def count_catalog(db: Database) -> tuple[int, int]:
    """(providers, models): what `make run` reports after seeding."""
    async with db.session() as session:
        providers = await session.scalar(select(func.count()).select_from(LlmProvider))
        models = await session.scalar(select(func.count()).select_from(LlmModel))
    return int(providers or 0), int(models or 0)

"""`modeldesk serve --demo`: a provider that needs no key, so a new user can watch a run.

The built-in provider simulator (`modeldesk.testing`) runs in the serve
process on a free loopback port and becomes provider `simlab`: OpenAI style,
two priced models answering in a few hundred milliseconds, the default one
rate-limited now and then (a 429 with a short Retry-After) so the backoff and
the provider hold show in the live view. The process uses a backoff schedule
of seconds, not minutes, so a demo run never stalls. A sample definition
comes with it.

The simulator takes any key, but run creation only picks models whose
provider has its key variable set, so the demo sets `SIMLAB_API_KEY` to a
placeholder in its own environment (never a real key, and only where unset).
Calls are made by serve's in-process worker: a separate `modeldesk worker`
has neither the simulator nor the variable.

Installing is idempotent: a second start adds nothing; it only points
`simlab` at the new simulator port.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass

from sqlalchemy import select

from modeldesk.auth import Principal
from modeldesk.catalog import (
    ModelCreate,
    ProviderCreate,
    ProviderUpdate,
    create_model,
    create_provider,
    find_model_by_identifier,
    get_provider_by_name,
    update_provider,
)
from modeldesk.config import Settings
from modeldesk.db.run_tables import Definition
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmProvider
from modeldesk.enums import Role
from modeldesk.errors import NotFoundError
from modeldesk.runs import create_definition
from modeldesk.testing import ModelConfig, Outcome, Simulator

logger = logging.getLogger(__name__)

DEMO_PROVIDER = "simlab"
DEMO_KEY_ENV = "SIMLAB_API_KEY"
DEMO_KEY_PLACEHOLDER = "simlab-demo-placeholder"
# Seconds before each retry after a rate limit (the real default is 30-120 s).
DEMO_BACKOFF: tuple[float, ...] = (2.0, 3.0, 4.0, 5.0)
DEMO_RETRY_AFTER_SECONDS = 2
DEMO_ACTOR = Principal(name="demo", role=Role.ADMIN)
DEMO_DEFINITION = "Demo: explain it simply"
# A simulator script is consumed call by call; this many rounds outlast any demo.
_SCRIPT_ROUNDS = 2000


@dataclass(frozen=True)
class DemoModel:
    model_id: str
    display_name: str
    input_price: str
    output_price: str
    latency: float
    # Every Nth call answers 429 (None: never).
    rate_limit_every: int | None


DEMO_MODELS = (
    DemoModel("sim-mini", "Sim Mini", "0.40", "1.60", latency=0.4, rate_limit_every=5),
    DemoModel("sim-max", "Sim Max", "2.50", "10.00", latency=0.9, rate_limit_every=None),
)


def demo_settings(settings: Settings) -> Settings:
    """The process settings with the demo's short backoff schedule."""
    return settings.model_copy(update={"rate_limit_backoff": DEMO_BACKOFF})


def _answers(model: DemoModel) -> ModelConfig:
    outcomes: tuple[Outcome, ...] = ()
    if model.rate_limit_every is not None:
        limited = Outcome.rate_limit(
            DEMO_RETRY_AFTER_SECONDS,
            message="Rate limit reached for requests (simulated by the demo).",
        )
        rhythm = (Outcome.ok(),) * (model.rate_limit_every - 1) + (limited,)
        outcomes = rhythm * _SCRIPT_ROUNDS
    return ModelConfig(latency=model.latency, outcomes=outcomes, provider=DEMO_PROVIDER)


async def start_demo_simulator() -> Simulator:
    """The simulator on a free loopback port, answering as the demo models."""
    simulator = await asyncio.to_thread(Simulator().start)
    for model in DEMO_MODELS:
        simulator.configure(model.model_id, _answers(model))
    # Only where unset: an operator's own value (a real gateway's key) stays.
    os.environ.setdefault(DEMO_KEY_ENV, DEMO_KEY_PLACEHOLDER)
    logger.info("demo: provider simulator at %s", simulator.url)
    return simulator


async def install_demo(db: Database, simulator_url: str) -> int:
    """Add `simlab`, its models and the sample definition where missing; returns rows added."""
    provider, added = await _demo_provider(db, simulator_url)
    for position, model in enumerate(DEMO_MODELS):
        if await find_model_by_identifier(db, DEMO_PROVIDER, model.model_id) is not None:
            continue
        await create_model(
            db,
            DEMO_ACTOR,
            ModelCreate.parse(
                provider_id=provider.id,
                model_id=model.model_id,
                display_name=model.display_name,
                cost_input_per_million=model.input_price,
                cost_output_per_million=model.output_price,
                set_as_default=position == 0,
            ),
        )
        added += 1
    if not await _definition_exists(db, DEMO_DEFINITION):
        await create_definition(
            db,
            DEMO_ACTOR,
            name=DEMO_DEFINITION,
            preamble="Answer in plain words, in at most three sentences.",
            template="Explain {{topic}} to {{audience}}.",
            dimensions=[
                {"name": "topic", "levels": ["rate limits", "prompt caching", "tokenisation"]},
                {"name": "audience", "levels": ["a new engineer", "a product manager"]},
            ],
        )
        added += 1
    logger.info("demo: %d rows added; provider %s at %s", added, DEMO_PROVIDER, simulator_url)
    return added


async def _demo_provider(db: Database, simulator_url: str) -> tuple[LlmProvider, int]:
    try:
        provider = await get_provider_by_name(db, DEMO_PROVIDER)
    except NotFoundError:
        created = await create_provider(
            db,
            DEMO_ACTOR,
            ProviderCreate.parse(
                name=DEMO_PROVIDER,
                display_name="SimLab (demo)",
                api_style="OPENAI",
                base_url=simulator_url,
                api_key_env=DEMO_KEY_ENV,
                max_parallel_requests=3,
                requests_per_minute=120,
            ),
        )
        return created, 1
    if provider.base_url != simulator_url:
        # A new port each start; the provider's limits and state stay the operator's.
        provider = await update_provider(
            db, DEMO_ACTOR, provider.id, ProviderUpdate.parse(base_url=simulator_url)
        )
    return provider, 0


async def _definition_exists(db: Database, name: str) -> bool:
    async with db.session() as session:
        found = await session.scalar(select(Definition.id).where(Definition.name == name).limit(1))
    return found is not None

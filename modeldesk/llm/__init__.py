"""Calling LLM providers: adapters, error classification, backoff policy, cost maths.

This package knows nothing of the database. The caller turns a provider row
into a `ProviderTarget` (`make_target`), calls `complete`, and on failure asks
`decide` what to do with the `ProviderCallError`; on success it prices the
`Usage` with `snapshot_cost` and the price version in force.

    target = make_target(provider_name="openai", api_style="OPENAI",
                         model_id="gpt-5-mini", api_key_env="OPENAI_API_KEY")
    completion = await complete(client, target, CompletionRequest.from_prompt("Hi"))
    snapshot = snapshot_cost(
        completion.usage,
        PriceQuote(Decimal("0.25"), Decimal("2")),
        fallback=fallback_quote(provider_input=None, provider_output=None, settings=settings),
    )
"""

from modeldesk.llm.adapters import complete, make_target, resolve_base_url
from modeldesk.llm.backoff import (
    BackoffPolicy,
    GiveUp,
    Retry,
    RetryState,
    decide,
    rate_limit_delay,
    transient_delay,
)
from modeldesk.llm.classify import mentions_rate_limit, parse_retry_after
from modeldesk.llm.cost import (
    CostSnapshot,
    compute_cost,
    fallback_quote,
    price_usage,
    snapshot_cost,
)
from modeldesk.llm.errors import ProviderCallError
from modeldesk.llm.prices import ChargedRates, LongContextTier, PriceQuote, charged_rates
from modeldesk.llm.redact import redact
from modeldesk.llm.types import (
    DEFAULT_BASE_URLS,
    Completion,
    CompletionRequest,
    Message,
    ProviderTarget,
    Usage,
)

__all__ = [
    "DEFAULT_BASE_URLS",
    "BackoffPolicy",
    "ChargedRates",
    "Completion",
    "CompletionRequest",
    "CostSnapshot",
    "GiveUp",
    "LongContextTier",
    "Message",
    "PriceQuote",
    "ProviderCallError",
    "ProviderTarget",
    "Retry",
    "RetryState",
    "Usage",
    "charged_rates",
    "complete",
    "compute_cost",
    "decide",
    "fallback_quote",
    "make_target",
    "mentions_rate_limit",
    "parse_retry_after",
    "price_usage",
    "rate_limit_delay",
    "redact",
    "resolve_base_url",
    "snapshot_cost",
    "transient_delay",
]

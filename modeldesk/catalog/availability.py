"""Whether a provider can be called: its key lives in the environment, never the database."""

from __future__ import annotations

from modeldesk.db.tables import LlmProvider
from modeldesk.llm.key_routing import api_key_from_env


def provider_has_key(provider: LlmProvider, environ: dict[str, str] | None = None) -> bool:
    return api_key_from_env(provider.api_key_env, environ) is not None

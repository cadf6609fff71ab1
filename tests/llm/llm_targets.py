"""Provider targets on the session simulator, with a test key (imported by the llm tests)."""

from __future__ import annotations

from modeldesk.enums import ApiStyle
from modeldesk.llm import ProviderTarget
from modeldesk.testing import Simulator

# Shaped like a real OpenAI key, so the pattern-based redaction is exercised too.
API_KEY = "sk-test-4f9c2e7a1b6d8e0f3a5c7b9d"


class TargetFactory:
    """Builds targets pointing at the session simulator, with the test key by default."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def __call__(
        self,
        style: ApiStyle,
        model: str,
        *,
        api_key: str | None = API_KEY,
        timeout: float = 5.0,
        provider_name: str = "",
        base_url: str | None = None,
    ) -> ProviderTarget:
        return ProviderTarget(
            api_style=style,
            base_url=base_url or self.sim.url,
            model_id=model,
            api_key=api_key,
            timeout=timeout,
            provider_name=provider_name,
        )

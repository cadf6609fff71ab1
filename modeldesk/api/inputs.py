"""GraphQL input types, and their conversion into the catalogue's validated inputs.

Prices arrive as JSON numbers (floats); they go through `str()` before becoming
Decimals, so 0.1 stays exactly 0.1 instead of a binary fraction. Every rule
(ranges, lengths, names) is the service's `*.parse`, reported with the field.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from modeldesk import catalog
from modeldesk.api.ids import parse_id
from modeldesk.enums import ApiStyle, Role


def _exact(value: float | None) -> str | None:
    return None if value is None else str(value)


@strawberry.input
class CreateLlmModelInput:
    provider_id: strawberry.ID
    model_id: str
    display_name: str
    cost_input_per_million: float | None = None
    cost_output_per_million: float | None = None
    set_as_default: bool = False

    def parse(self) -> catalog.ModelCreate:
        return catalog.ModelCreate.parse(
            provider_id=parse_id(self.provider_id, "providerId"),
            model_id=self.model_id,
            display_name=self.display_name,
            cost_input_per_million=_exact(self.cost_input_per_million),
            cost_output_per_million=_exact(self.cost_output_per_million),
            set_as_default=self.set_as_default,
        )


@strawberry.input(description="Only what may change after creation; the model id never does.")
class UpdateLlmModelInput:
    display_name: str | None = None
    cost_input_per_million: float | None = None
    cost_output_per_million: float | None = None

    def parse(self) -> catalog.ModelUpdate:
        return catalog.ModelUpdate.parse(
            display_name=self.display_name,
            cost_input_per_million=_exact(self.cost_input_per_million),
            cost_output_per_million=_exact(self.cost_output_per_million),
        )


@strawberry.input
class UpdateLlmProviderInput:
    max_parallel_requests: int | None = None
    requests_per_minute: int | None = None
    is_enabled: bool | None = None
    base_url: str | None = strawberry.field(
        default=None, description="An empty string goes back to the provider's default URL."
    )
    display_name: str | None = None

    def parse(self) -> catalog.ProviderUpdate:
        return catalog.ProviderUpdate.parse(
            max_parallel_requests=self.max_parallel_requests,
            requests_per_minute=self.requests_per_minute,
            is_enabled=self.is_enabled,
            base_url=self.base_url,
            display_name=self.display_name,
        )


@strawberry.input
class CreateLlmProviderInput:
    name: str
    display_name: str
    api_style: ApiStyle
    base_url: str | None = None
    api_key_env: str | None = None
    max_parallel_requests: int = 1
    requests_per_minute: int = 60

    def parse(self) -> catalog.ProviderCreate:
        return catalog.ProviderCreate.parse(
            name=self.name,
            display_name=self.display_name,
            api_style=self.api_style,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            max_parallel_requests=self.max_parallel_requests,
            requests_per_minute=self.requests_per_minute,
        )


@strawberry.input(description="A JSON value, or a string holding JSON.")
class UpdateSystemSettingInput:
    key: str
    value: JSON


@strawberry.input
class CreateApiTokenInput:
    role: Role
    name: str

from __future__ import annotations

import logging

import pytest

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ModelCreate,
    ProviderUpdate,
    create_model,
    deprecate_model,
    get_model_by_identifier,
    get_provider_by_name,
    list_models,
    resolve_infra_model,
    selectable_models,
    update_provider,
    update_setting,
)
from modeldesk.db.session import Database
from modeldesk.enums import ModelStatus
from modeldesk.errors import ModelNotFoundError, ValidationError

ALL_KEYS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "XAI_API_KEY",
    "GOOGLE_API_KEY",
    "DEEPSEEK_API_KEY",
    "MISTRAL_API_KEY",
)


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in ALL_KEYS:
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


async def test_availability_follows_the_key_environment_variables(
    seeded_db: Database, no_keys: pytest.MonkeyPatch
) -> None:
    assert await list_models(seeded_db, available_only=True) == []
    no_keys.setenv("ANTHROPIC_API_KEY", "sk-test")
    available = await list_models(seeded_db, available_only=True)
    assert {m.model_id for m, _ in available} == {"claude-haiku-4-5", "claude-sonnet-4-5"}
    assert {p.name for _, p in available} == {"anthropic"}


async def test_list_models_filters(seeded_db: Database, admin: Principal) -> None:
    openai = await get_provider_by_name(seeded_db, "openai")
    big = await get_model_by_identifier(seeded_db, "openai", "gpt-5.1")
    await deprecate_model(seeded_db, admin, big.id)
    active = await list_models(seeded_db, provider_id=openai.id, status=ModelStatus.ACTIVE)
    deprecated = await list_models(seeded_db, status=ModelStatus.DEPRECATED)
    assert [m.model_id for m, _ in active] == ["gpt-5-mini"]
    assert [m.model_id for m, _ in deprecated] == ["gpt-5.1"]


async def test_selection_hides_deprecated_models_and_disabled_providers(
    seeded_db: Database, admin: Principal
) -> None:
    google = await get_provider_by_name(seeded_db, "google")
    await update_provider(seeded_db, admin, google.id, ProviderUpdate(is_enabled=False))
    big = await get_model_by_identifier(seeded_db, "openai", "gpt-5.1")
    await deprecate_model(seeded_db, admin, big.id)
    offered = {(p.name, m.model_id) for m, p in await selectable_models(seeded_db)}
    assert ("openai", "gpt-5.1") not in offered
    assert not any(name == "google" for name, _ in offered)
    assert ("openai", "gpt-5-mini") in offered and len(offered) == 8


async def test_configured_infra_model_is_used_when_usable(
    seeded_db: Database, no_keys: pytest.MonkeyPatch
) -> None:
    no_keys.setenv("OPENAI_API_KEY", "sk-test")
    resolved = await resolve_infra_model(seeded_db, "scenario_expansion")
    assert not resolved.is_fallback and resolved.reason is None
    assert (resolved.provider.name, resolved.model.model_id) == ("openai", "gpt-5-mini")


async def test_missing_key_falls_back_to_cheapest_available_and_logs(
    seeded_db: Database, no_keys: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    no_keys.setenv("DEEPSEEK_API_KEY", "sk-test")
    no_keys.setenv("MISTRAL_API_KEY", "sk-test")
    with caplog.at_level(logging.ERROR, logger="modeldesk.catalog.infra"):
        resolved = await resolve_infra_model(seeded_db, "scenario_expansion")
    assert resolved.is_fallback and "OPENAI_API_KEY" in (resolved.reason or "")
    # deepseek: 0.28 + 0.42 = 0.70 beats mistral's 2.00; the first of the two equal ones wins
    assert (resolved.provider.name, resolved.model.model_id) == ("deepseek", "deepseek-chat")
    assert "falling back to deepseek/deepseek-chat" in caplog.text


async def test_deprecated_infra_model_falls_back(
    seeded_db: Database, admin: Principal, no_keys: pytest.MonkeyPatch
) -> None:
    no_keys.setenv("OPENAI_API_KEY", "sk-test")
    mini = await get_model_by_identifier(seeded_db, "openai", "gpt-5-mini")
    await deprecate_model(seeded_db, admin, mini.id)
    resolved = await resolve_infra_model(seeded_db, "scenario_expansion")
    assert resolved.is_fallback and resolved.model.model_id == "gpt-5.1"
    assert "deprecated" in (resolved.reason or "")


async def test_missing_configured_model_falls_back_and_unpriced_models_come_last(
    seeded_db: Database, admin: Principal, no_keys: pytest.MonkeyPatch
) -> None:
    no_keys.setenv("XAI_API_KEY", "sk-test")
    xai = await get_provider_by_name(seeded_db, "xai")
    await create_model(
        seeded_db,
        admin,
        ModelCreate.parse(
            provider_id=xai.id,
            model_id="grok-unpriced",
            display_name="Grok without a price",
            cost_input_per_million=None,
            cost_output_per_million=None,
        ),
    )
    await update_setting(
        seeded_db, admin, "infra_model_analysis", {"providerName": "xai", "modelId": "gone"}
    )
    resolved = await resolve_infra_model(seeded_db, "analysis")
    assert resolved.model.model_id == "grok-4-1-fast-reasoning"
    assert resolved.configured == {"providerName": "xai", "modelId": "gone"}
    assert "xai/gone is missing" in (resolved.reason or "")
    unconfigured = await resolve_infra_model(seeded_db, "summarization")
    assert unconfigured.reason == "no model is configured"


async def test_no_usable_model_at_all_is_an_error(
    seeded_db: Database, no_keys: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ModelNotFoundError, match="no active model has an API key"):
        await resolve_infra_model(seeded_db, "summarization")
    with pytest.raises(ValidationError):
        await resolve_infra_model(seeded_db, "poetry")

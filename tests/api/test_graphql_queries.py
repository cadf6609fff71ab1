"""Every catalogue query over HTTP: its success shape and its error codes."""

from __future__ import annotations

import pytest
from graphql_client import GraphQLClient

from modeldesk import catalog
from modeldesk.auth import Principal
from modeldesk.db.session import Database

MODEL_FIELDS = """id providerId modelId displayName costInputPerMillion costOutputPerMillion
status isDefault isAvailable createdAt updatedAt provider { name }
priceHistory { costInputPerMillion costOutputPerMillion effectiveFrom effectiveUntil }"""
PROVIDER_FIELDS = f"""id name displayName maxParallelRequests requestsPerMinute isEnabled apiStyle
baseUrl apiKeyEnv hasApiKey createdAt updatedAt models {{ {MODEL_FIELDS} }}
activeModels {{ modelId }} defaultModel {{ modelId }}"""


async def test_llm_providers_lists_the_seeded_catalogue_with_every_field(
    seeded_db: Database, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    providers = (await gql.data(f"{{ llmProviders {{ {PROVIDER_FIELDS} }} }}"))["llmProviders"]

    assert [p["name"] for p in providers] == [
        "openai", "anthropic", "xai", "google", "deepseek", "mistral"
    ]  # fmt: skip
    openai, anthropic = providers[0], providers[1]
    assert openai["displayName"] == "OpenAI"
    assert openai["maxParallelRequests"] == 5 and openai["requestsPerMinute"] == 60
    assert openai["isEnabled"] is True and openai["apiStyle"] == "OPENAI"
    assert openai["apiKeyEnv"] == "OPENAI_API_KEY" and openai["hasApiKey"] is True
    assert anthropic["hasApiKey"] is False and anthropic["apiStyle"] == "ANTHROPIC"
    assert openai["defaultModel"] == {"modelId": "gpt-5-mini"}
    assert [m["modelId"] for m in openai["activeModels"]] == ["gpt-5-mini", "gpt-5.1"]
    mini = openai["models"][0]
    assert mini["costInputPerMillion"] == 0.25 and mini["costOutputPerMillion"] == 2.0
    assert mini["status"] == "ACTIVE" and mini["isDefault"] is True
    assert mini["isAvailable"] is True and mini["provider"] == {"name": "openai"}
    assert mini["providerId"] == openai["id"]
    assert mini["priceHistory"][0]["costInputPerMillion"] == 0.25
    assert mini["priceHistory"][0]["effectiveUntil"] is None
    assert anthropic["models"][0]["isAvailable"] is False


async def test_llm_provider_by_id_and_unknown_ids(seeded_db: Database, gql: GraphQLClient) -> None:
    provider = await gql.data('{ llmProvider(id: "2") { name models { modelId } } }')
    assert provider["llmProvider"]["name"] == "anthropic"
    assert len(provider["llmProvider"]["models"]) == 2

    # The plan's contract: a lookup that matches nothing is null, with no error.
    assert await gql.data('{ llmProvider(id: "999") { name } }') == {"llmProvider": None}
    assert await gql.data('{ llmProvider(id: "abc") { name } }') == {"llmProvider": None}


async def test_llm_models_honours_every_filter(
    seeded_db: Database, gql: GraphQLClient, admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    await catalog.deprecate_model(seeded_db, admin, 2)  # gpt-5.1

    async def model_ids(arguments: str) -> list[str]:
        data = await gql.data(f"{{ llmModels{arguments} {{ modelId }} }}")
        return [m["modelId"] for m in data["llmModels"]]

    assert len(await model_ids("")) == 10
    assert await model_ids('(providerId: "1")') == ["gpt-5-mini", "gpt-5.1"]
    assert await model_ids("(status: DEPRECATED)") == ["gpt-5.1"]
    assert await model_ids('(providerId: "1", status: ACTIVE)') == ["gpt-5-mini"]
    assert await model_ids("(availableOnly: true)") == ["deepseek-chat", "deepseek-reasoner"]
    listed = await gql.data("{ llmModels { modelId isAvailable } }")
    assert {m["modelId"] for m in listed["llmModels"] if m["isAvailable"]} == {
        "deepseek-chat",
        "deepseek-reasoner",
    }
    one = await gql.data('{ llmModel(id: "1") { isAvailable } }')
    assert one["llmModel"]["isAvailable"] is False
    bad = await gql.error("{ llmModels(status: RETIRED) { id } }")
    assert bad["extensions"]["code"] == "VALIDATION_ERROR"


async def test_llm_model_by_id_and_by_identifier(seeded_db: Database, gql: GraphQLClient) -> None:
    by_id = (await gql.data('{ llmModel(id: "3") { modelId provider { name } } }'))["llmModel"]
    assert by_id == {"modelId": "claude-haiku-4-5", "provider": {"name": "anthropic"}}
    query = """query($p: String!, $m: String!) {
        llmModelByIdentifier(providerName: $p, modelId: $m) { id displayName } }"""
    found = await gql.data(query, {"p": "xai", "m": "grok-4-0709"})
    assert found["llmModelByIdentifier"] == {"id": "6", "displayName": "Grok 4"}

    missing = await gql.data(query, {"p": "xai", "m": "grok-9"})
    assert missing == {"llmModelByIdentifier": None}
    assert await gql.data('{ llmModel(id: "999") { id } }') == {"llmModel": None}


async def test_available_models_are_active_models_of_enabled_providers(
    seeded_db: Database, gql: GraphQLClient, admin: Principal
) -> None:
    await catalog.deprecate_model(seeded_db, admin, 1)  # gpt-5-mini, openai's default
    await catalog.update_provider(seeded_db, admin, 2, catalog.ProviderUpdate(is_enabled=False))
    data = await gql.data("{ availableModels { modelId isDefault isAvailable provider { name } } }")
    offered = {m["modelId"]: m for m in data["availableModels"]}

    assert "gpt-5-mini" not in offered
    assert not any(m["provider"]["name"] == "anthropic" for m in offered.values())
    assert offered["gpt-5.1"]["isDefault"] is True  # promoted when gpt-5-mini was deprecated
    assert len(offered) == 7


async def test_system_settings_and_one_setting(seeded_db: Database, gql: GraphQLClient) -> None:
    data = await gql.data("{ systemSettings { key value updatedAt } }")
    assert data["systemSettings"][0]["key"] == "infra_model_scenario_expansion"
    assert data["systemSettings"][0]["value"] == {"providerName": "openai", "modelId": "gpt-5-mini"}
    one = await gql.data('{ systemSetting(key: "infra_model_scenario_expansion") { value } }')
    assert one["systemSetting"]["value"]["modelId"] == "gpt-5-mini"
    missing = await gql.data('{ systemSetting(key: "nope") { value } }')
    assert missing == {"systemSetting": None}


async def test_infra_model_uses_the_setting_or_falls_back_with_a_reason(
    seeded_db: Database, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """query($purpose: String!) { infraModel(purpose: $purpose) {
        purpose isFallback reason configured model { modelId } provider { name } } }"""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
    configured = (await gql.data(query, {"purpose": "scenario_expansion"}))["infraModel"]
    assert configured["isFallback"] is False and configured["reason"] is None
    assert configured["model"] == {"modelId": "gpt-5-mini"}
    assert configured["provider"] == {"name": "openai"}

    fallback = (await gql.data(query, {"purpose": "summarization"}))["infraModel"]
    assert fallback["isFallback"] is True and fallback["configured"] is None
    assert fallback["reason"] == "no model is configured"
    # The cheapest model with a key: 0.28 + 0.42 beats gpt-5-mini's 0.25 + 2.00.
    assert fallback["model"] == {"modelId": "deepseek-chat"}
    unknown = await gql.error(query, {"purpose": "poetry"})
    assert unknown["extensions"] == {"code": "VALIDATION_ERROR", "field": "purpose"}


async def test_infra_model_without_any_key_is_model_not_found(
    seeded_db: Database, gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI", "ANTHROPIC", "XAI", "GOOGLE", "DEEPSEEK", "MISTRAL"):
        monkeypatch.delenv(f"{name}_API_KEY", raising=False)
    error = await gql.error('{ infraModel(purpose: "analysis") { isFallback } }')
    assert error["extensions"]["code"] == "MODEL_NOT_FOUND"


async def test_audit_log_pages_newest_first(
    seeded_db: Database, gql: GraphQLClient, admin: Principal
) -> None:
    for rpm in (11, 12, 13):
        update = catalog.ProviderUpdate(requests_per_minute=rpm)
        await catalog.update_provider(seeded_db, admin, 1, update)
    query = """query($limit: Int, $offset: Int) { auditLog(limit: $limit, offset: $offset,
        entityType: "provider") { limit offset hasMore entries { actor action entityType
        entityId before after createdAt } } }"""
    first = (await gql.data(query, {"limit": 2, "offset": 0}))["auditLog"]
    assert first["hasMore"] is True and len(first["entries"]) == 2
    newest = first["entries"][0]
    assert newest["actor"] == "alice" and newest["action"] == "provider.update"
    assert newest["entityId"] == "1" and newest["after"]["requests_per_minute"] == 13
    assert newest["before"]["requests_per_minute"] == 12
    rest = (await gql.data(query, {"limit": 2, "offset": 2}))["auditLog"]
    assert rest["hasMore"] is False and len(rest["entries"]) == 1

    too_many = await gql.error(query, {"limit": 10_000, "offset": 0})
    assert too_many["extensions"] == {"code": "VALIDATION_ERROR", "field": "limit"}
    negative = await gql.error(query, {"limit": 5, "offset": -1})
    assert negative["extensions"] == {"code": "VALIDATION_ERROR", "field": "offset"}

from __future__ import annotations

import pytest

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    ProviderCreate,
    ProviderUpdate,
    create_provider,
    current_catalog_version,
    get_provider_by_name,
    get_setting,
    list_audit_entries,
    list_settings,
    update_provider,
    update_setting,
)
from modeldesk.db.session import Database
from modeldesk.enums import ApiStyle
from modeldesk.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError


async def test_create_provider_for_a_local_openai_compatible_server(
    seeded_db: Database, admin: Principal
) -> None:
    provider = await create_provider(
        seeded_db,
        admin,
        ProviderCreate.parse(
            name="Local-LLM",
            display_name="Local LLM",
            api_style="OPENAI",
            base_url="http://127.0.0.1:9999/",
            api_key_env="LOCAL_LLM_API_KEY",
            max_parallel_requests=4,
            requests_per_minute=120,
        ),
    )
    assert provider.name == "local-llm"
    assert provider.api_style == ApiStyle.OPENAI
    assert provider.base_url == "http://127.0.0.1:9999"
    assert provider.is_enabled and provider.max_parallel_requests == 4
    entry = (await list_audit_entries(seeded_db, entity_type="provider"))[0]
    assert entry.action == "provider.create" and entry.after["name"] == "local-llm"


async def test_duplicate_provider_name_is_a_conflict(seeded_db: Database, admin: Principal) -> None:
    with pytest.raises(ConflictError):
        await create_provider(
            seeded_db,
            admin,
            ProviderCreate.parse(name="openai", display_name="again", api_style="OPENAI"),
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"api_style": "COBOL"}, "apiStyle"),
        ({"name": "Bad Name!"}, "name"),
        ({"base_url": "ftp://x"}, "baseUrl"),
        ({"api_key_env": "not a var"}, "apiKeyEnv"),
        ({"max_parallel_requests": -1}, "maxParallelRequests"),
        ({"requests_per_minute": "many"}, "requestsPerMinute"),
    ],
)
def test_provider_input_is_validated_with_the_field_named(
    kwargs: dict[str, object], field: str
) -> None:
    base: dict[str, object] = {"name": "p", "display_name": "P", "api_style": "OPENAI"}
    with pytest.raises(ValidationError) as raised:
        ProviderCreate.parse(**{**base, **kwargs})  # type: ignore[arg-type]
    assert raised.value.field == field


async def test_update_provider_limits_and_enabled(seeded_db: Database, admin: Principal) -> None:
    openai = await get_provider_by_name(seeded_db, "openai")
    version = await current_catalog_version(seeded_db)
    updated = await update_provider(
        seeded_db,
        admin,
        openai.id,
        ProviderUpdate.parse(max_parallel_requests=0, requests_per_minute=7, is_enabled=False),
    )
    assert (updated.max_parallel_requests, updated.requests_per_minute) == (0, 7)
    assert not updated.is_enabled
    assert await current_catalog_version(seeded_db) == version + 1
    entry = (await list_audit_entries(seeded_db, entity_type="provider"))[0]
    assert entry.before["requests_per_minute"] == 60 and entry.after["requests_per_minute"] == 7


async def test_base_url_can_be_set_and_cleared(seeded_db: Database, admin: Principal) -> None:
    openai = await get_provider_by_name(seeded_db, "openai")
    changed = await update_provider(
        seeded_db, admin, openai.id, ProviderUpdate.parse(base_url="http://127.0.0.1:8080/v")
    )
    assert changed.base_url == "http://127.0.0.1:8080/v"
    cleared = await update_provider(seeded_db, admin, openai.id, ProviderUpdate.parse(base_url=""))
    assert cleared.base_url is None


async def test_update_provider_refusals(
    seeded_db: Database, admin: Principal, viewer: Principal
) -> None:
    openai = await get_provider_by_name(seeded_db, "openai")
    with pytest.raises(ForbiddenError):
        await update_provider(seeded_db, viewer, openai.id, ProviderUpdate(is_enabled=False))
    with pytest.raises(NotFoundError):
        await update_provider(seeded_db, admin, 424242, ProviderUpdate(is_enabled=False))


async def test_settings_roundtrip_and_audit(seeded_db: Database, admin: Principal) -> None:
    setting = await update_setting(seeded_db, admin, "ui_banner", '{"text": "hello"}')
    assert setting.value == {"text": "hello"}
    again = await update_setting(seeded_db, admin, "ui_banner", {"text": "bye"})
    assert again.value == {"text": "bye"}
    assert (await get_setting(seeded_db, "ui_banner")).value == {"text": "bye"}
    keys = [s.key for s in await list_settings(seeded_db)]
    assert keys == ["infra_model_scenario_expansion", "ui_banner"]
    entry = (await list_audit_entries(seeded_db, entity_type="setting"))[0]
    assert entry.before == {"text": "hello"} and entry.after == {"text": "bye"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("anything", "{not json"),
        ("infra_model_scenario_expansion", {"providerName": "openai"}),
        ("infra_model_scenario_expansion", {"providerName": "openai", "modelId": 3}),
        ("infra_model_dreaming", {"providerName": "openai", "modelId": "gpt-5-mini"}),
    ],
)
async def test_bad_setting_values_are_refused(
    seeded_db: Database, admin: Principal, key: str, value: object
) -> None:
    with pytest.raises(ValidationError):
        await update_setting(seeded_db, admin, key, value)


async def test_unknown_setting_is_not_found(seeded_db: Database) -> None:
    with pytest.raises(NotFoundError):
        await get_setting(seeded_db, "nope")

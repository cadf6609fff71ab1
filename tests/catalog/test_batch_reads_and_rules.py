"""The shared batch reads and paging (`db.reads`), and rules that have one home in the catalogue."""

from __future__ import annotations

from functools import partial

from sqlalchemy import select

from modeldesk.auth.principal import Principal
from modeldesk.catalog import (
    DeprecateResult,
    current_catalog_version,
    deprecate_model,
    effective_max_parallel,
    get_model_by_identifier,
    get_setting,
    infra_model_label,
    list_audit_entries,
    list_providers,
    set_infra_model,
)
from modeldesk.catalog.settings import infra_model_value
from modeldesk.db.reads import read_page, rows_by_ids, rows_grouped_by
from modeldesk.db.session import Database
from modeldesk.db.tables import LlmModel, LlmProvider


async def test_rows_by_ids_answer_a_batch_and_leave_out_unknown_ids(seeded_db: Database) -> None:
    openai, anthropic = (await list_providers(seeded_db))[:2]
    found = await rows_by_ids(seeded_db, LlmProvider, [anthropic.id, 999_999, openai.id])
    assert {key: row.name for key, row in found.items()} == {
        openai.id: "openai",
        anthropic.id: "anthropic",
    }
    assert await rows_by_ids(seeded_db, LlmProvider, []) == {}


async def test_rows_grouped_by_keep_the_query_order_within_each_key(seeded_db: Database) -> None:
    openai, anthropic = (await list_providers(seeded_db))[:2]
    newest_first = select(LlmModel).order_by(LlmModel.id.desc())
    grouped = await rows_grouped_by(
        seeded_db, LlmModel.provider_id, [openai.id, anthropic.id, 999_999], newest_first
    )
    assert {key: [m.model_id for m in rows] for key, rows in grouped.items()} == {
        openai.id: ["gpt-5.1", "gpt-5-mini"],
        anthropic.id: ["claude-sonnet-4-5", "claude-haiku-4-5"],
    }
    assert await rows_grouped_by(seeded_db, LlmModel.provider_id, [], newest_first) == {}


async def test_a_page_tells_whether_more_rows_follow(seeded_db: Database, admin: Principal) -> None:
    for purpose in ("summarization", "analysis", "scenario_expansion"):
        await set_infra_model(seeded_db, admin, purpose, "openai/gpt-5-mini")
    read = partial(list_audit_entries, seeded_db, entity_type="setting")
    first = await read_page(read, limit=2, offset=0)
    last = await read_page(read, limit=2, offset=2)
    assert len(first.rows) == 2 and first.has_more
    assert len(last.rows) == 1 and not last.has_more
    assert [e.entity_id for e in first.rows + last.rows] == [
        "infra_model_scenario_expansion",
        "infra_model_analysis",
        "infra_model_summarization",
    ]


def test_a_limit_of_zero_runs_as_one() -> None:
    assert [effective_max_parallel(n) for n in (0, 1, 5)] == [1, 1, 5]


async def test_the_infra_setting_shape_lives_in_the_catalogue(
    seeded_db: Database, admin: Principal
) -> None:
    # A model id may hold a "/"; a provider name never does.
    assert infra_model_value("openai/ft/gpt-5") == {"providerName": "openai", "modelId": "ft/gpt-5"}
    await set_infra_model(seeded_db, admin, "analysis", "anthropic/claude-haiku-4-5")
    setting = await get_setting(seeded_db, "infra_model_analysis")
    assert setting.value == {"providerName": "anthropic", "modelId": "claude-haiku-4-5"}
    assert infra_model_label(setting.value) == "anthropic/claude-haiku-4-5"
    assert infra_model_label(None) == ""


async def test_one_deprecation_writes_both_entries_and_bumps_the_version_once(
    seeded_db: Database, admin: Principal
) -> None:
    default = await get_model_by_identifier(seeded_db, "openai", "gpt-5-mini")
    version = await current_catalog_version(seeded_db)
    result: DeprecateResult = await deprecate_model(seeded_db, admin, default.id)
    assert result.was_default and result.new_default is not None
    assert await current_catalog_version(seeded_db) == version + 1
    newest = await list_audit_entries(seeded_db, limit=2)
    assert [(e.action, e.after["model_id"]) for e in newest] == [
        ("model.deprecate", "gpt-5-mini"),
        ("model.set_default", "gpt-5.1"),
    ]
    assert newest[1].before["is_default"] is False and newest[1].after["is_default"] is True

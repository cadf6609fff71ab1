"""The one rule for text, JSON and ids, and every service that stores input keeping it.

PostgreSQL refuses NUL and an unpaired surrogate cannot be encoded, so each
service must refuse them (and the other control characters) as a
VALIDATION_ERROR naming the field, before a query runs, and a lookup by them
must find nothing instead of failing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from modeldesk import catalog, runs
from modeldesk.auth import create_token, revoke_token
from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.db.tables import AuditEntry
from modeldesk.errors import ModelNotFoundError, NotFoundError, ValidationError
from modeldesk.input_rules import (
    MAX_DB_ID,
    MAX_JSON_DEPTH,
    as_db_id,
    check_json,
    clean_id,
    clean_text,
    is_storable_text,
)

# Characters no single-line field may hold: C0, DEL, C1 and a lone surrogate.
REFUSED_EVERYWHERE = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\udfff"]
LINE_BREAKS = ["\t", "\n", "\r"]


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE + LINE_BREAKS)
def test_single_line_text_refuses_control_characters_naming_the_field(character: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_text(f"gpt{character}5", "modelId")
    assert refused.value.details == {"field": "modelId"}
    assert f"U+{ord(character):04X} at position 3" in refused.value.message


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE)
def test_multi_line_text_refuses_control_characters_too(character: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_text(f"line one\n{character}end", "template", multiline=True, max_length=100)
    assert refused.value.field == "template"


def test_multi_line_text_keeps_tabs_and_line_breaks() -> None:
    text = "Answer:\n\tin one line\r\nplease"
    assert clean_text(f"  {text} ", "template", multiline=True) == text


def test_printable_unicode_is_kept() -> None:
    assert clean_text("Grök 4 — 試す 🚀", "displayName") == "Grök 4 — 試す 🚀"


def test_storable_text_is_what_postgresql_can_hold() -> None:
    assert is_storable_text("tab\tand \x01 are storable")
    assert not is_storable_text("a\x00b")
    assert not is_storable_text("\ud83d")  # half of a surrogate pair


def test_json_values_are_checked_in_every_string_key_and_number() -> None:
    fine = {"text": "two\nlines", "list": [1, 2.5, None, True, {"deep": "ok"}]}
    assert check_json(fine, "value") is fine
    for bad in (
        {"a\x00": 1},
        ["ok", {"nested": ["\x00"]}],
        "\ud800",
        {"n": float("inf")},
        [float("nan")],
        {"x": object()},
    ):
        with pytest.raises(ValidationError) as refused:
            check_json(bad, "value")
        assert refused.value.field == "value"


def test_json_nested_too_deeply_is_refused_without_recursing() -> None:
    deep: Any = "leaf"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValidationError, match=f"more than {MAX_JSON_DEPTH} levels"):
        check_json(deep, "value")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (12, 12),
        (str(MAX_DB_ID), MAX_DB_ID),
        (str(MAX_DB_ID + 1), None),
        (2**64, None),
        ("9" * 5000, None),
        ("0", None),
        ("-3", None),
        ("+3", None),
        ("1_000", None),
        ("١٢", None),  # Arabic-Indic digits: int() takes them, ids never hold them
        ("²", None),
        ("1e3", None),
        ("abc", None),
        (True, None),
    ],
)
def test_ids_are_whole_numbers_a_bigint_holds(raw: Any, expected: int | None) -> None:
    assert as_db_id(raw) == expected
    if expected is None:
        with pytest.raises(ValidationError) as refused:
            clean_id(raw, "providerId")
        assert refused.value.field == "providerId"
    else:
        assert clean_id(raw) == expected


async def _audit_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


Write = Callable[[Database, Principal], Awaitable[object]]

WRITES: list[tuple[str, Write, str]] = [
    (
        "model id",
        lambda db, actor: catalog.create_model(
            db,
            actor,
            catalog.ModelCreate.parse(
                provider_id=1,
                model_id="gpt\x00",
                display_name="X",
                cost_input_per_million=None,
                cost_output_per_million=None,
            ),
        ),
        "modelId",
    ),
    (
        "display name",
        lambda db, actor: catalog.update_model(
            db, actor, 1, catalog.ModelUpdate.parse(display_name="Mini\nMax")
        ),
        "displayName",
    ),
    (
        "provider base URL",
        lambda db, actor: catalog.update_provider(
            db, actor, 1, catalog.ProviderUpdate.parse(base_url="http://h\x00st")
        ),
        "baseUrl",
    ),
    (
        "provider env var",
        lambda db, actor: catalog.create_provider(
            db,
            actor,
            catalog.ProviderCreate.parse(
                name="local", display_name="Local", api_style="OPENAI", api_key_env="KEY\x00"
            ),
        ),
        "apiKeyEnv",
    ),
    (
        "setting key",
        lambda db, actor: catalog.update_setting(db, actor, "banner\x00", {"text": "hi"}),
        "key",
    ),
    (
        "setting value",
        lambda db, actor: catalog.update_setting(db, actor, "banner", {"text": "hi\u0000"}),
        "value",
    ),
    (
        "setting value as a JSON string",
        lambda db, actor: catalog.update_setting(db, actor, "banner", '{"text": "\\u0000"}'),
        "value",
    ),
    (
        "setting value nested deep",
        lambda db, actor: catalog.update_setting(db, actor, "banner", "[" * 50_000),
        "value",
    ),
    (
        "infrastructure model id",
        lambda db, actor: catalog.update_setting(
            db,
            actor,
            "infra_model_analysis",
            {"providerName": "openai", "modelId": "gpt\ud800"},
        ),
        "value",
    ),
    (
        "token name",
        lambda db, actor: create_token(db, role="viewer", name="ci\x00", actor=actor),
        "name",
    ),
    (
        "definition name",
        lambda db, actor: runs.create_definition(db, actor, name="a\tb", template="Hi"),
        "name",
    ),
    (
        "definition template",
        lambda db, actor: runs.create_definition(db, actor, name="d", template="Hi\x00"),
        "template",
    ),
    (
        "definition preamble",
        lambda db, actor: runs.create_definition(
            db, actor, name="d", template="Hi", preamble="Be \x1b[31mred"
        ),
        "preamble",
    ),
    (
        "scenario",
        lambda db, actor: runs.create_definition(
            db, actor, name="d", template="Hi", scenarios=["ok", "bad\x00"]
        ),
        "scenarios[1]",
    ),
    (
        "dimension level",
        lambda db, actor: runs.create_definition(
            db,
            actor,
            name="d",
            template="Say {{tone}}",
            dimensions=[{"name": "tone", "levels": ["calm", "\x00"]}],
        ),
        "dimensions[0].levels[1]",
    ),
]


@pytest.mark.parametrize(
    ("write", "field"), [(w, f) for _, w, f in WRITES], ids=[n for n, *_ in WRITES]
)
async def test_every_write_refuses_unstorable_text_naming_the_field(
    seeded_db: Database, admin: Principal, write: Write, field: str
) -> None:
    audited = await _audit_count(seeded_db)
    with pytest.raises(ValidationError) as refused:
        await write(seeded_db, admin)
    assert refused.value.details.get("field") == field
    assert await _audit_count(seeded_db) == audited  # nothing was stored


async def test_multi_line_prose_is_stored_as_typed(db: Database, admin: Principal) -> None:
    definition = await runs.create_definition(
        db,
        admin,
        name="Letters",
        preamble="You write letters.\n",
        template="Dear {{who}},\n\tthank you.\r\nBest",
        dimensions=[{"name": "who", "levels": ["Ann", "Bo\nB"]}],
    )
    assert definition.template == "Dear {{who}},\n\tthank you.\r\nBest"
    texts = (await runs.scenarios_by_definition_ids(db, [definition.id]))[definition.id]
    assert [s.text for s in texts][1] == "Dear Bo\nB,\n\tthank you.\r\nBest"


async def test_lookups_by_unstorable_or_impossible_keys_find_nothing(
    seeded_db: Database,
) -> None:
    assert await catalog.find_setting(seeded_db, "a\x00") is None
    assert await catalog.find_setting(seeded_db, "\udc00") is None
    assert await catalog.find_model_by_identifier(seeded_db, "open\x00ai", "gpt-5-mini") is None
    assert await catalog.find_model(seeded_db, MAX_DB_ID + 1) is None
    assert await catalog.find_provider(seeded_db, 0) is None
    assert await runs.find_definition(seeded_db, -1) is None
    assert await runs.find_run(seeded_db, 2**80) is None
    assert await catalog.list_audit_entries(seeded_db, entity_type="model\x00") == []
    with pytest.raises(NotFoundError):
        await catalog.get_model(seeded_db, 2**70)


async def test_run_models_are_text_under_the_rule_and_impossible_ids_are_unknown(
    seeded_db: Database, admin: Principal
) -> None:
    definition = await runs.create_definition(seeded_db, admin, name="d", template="Hi")
    with pytest.raises(ValidationError) as refused:
        await runs.create_run(seeded_db, admin, definition.id, ["openai/gpt-5-mini", "a\x00/b"])
    assert refused.value.field == "models[1]"
    beyond_any_id = ["9" * 40, str(2**63), "²"]
    with pytest.raises(ModelNotFoundError) as unknown:
        await runs.create_run(seeded_db, admin, definition.id, beyond_any_id)
    assert len(unknown.value.details["models"]) == len(beyond_any_id)


async def test_revoking_an_id_no_token_could_have_is_not_found(db: Database) -> None:
    with pytest.raises(NotFoundError):
        await revoke_token(db, 2**63)

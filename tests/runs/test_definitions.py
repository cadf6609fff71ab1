"""Definitions: validation, explicit and combinatorial scenarios, reads."""

from __future__ import annotations

import pytest

from modeldesk.auth.principal import Principal
from modeldesk.db.session import Database
from modeldesk.errors import ErrorCode, ForbiddenError, NotFoundError, ValidationError
from modeldesk.runs import (
    MAX_SCENARIOS,
    create_definition,
    definition_dimensions,
    definitions_by_ids,
    expand_combinatorially,
    get_definition,
    list_definitions,
    scenarios_by_definition_ids,
    scenarios_by_ids,
)


async def _current_texts(db: Database, definition_id: int) -> list[str]:
    scenarios = await scenarios_by_definition_ids(db, [definition_id])
    return [s.text for s in scenarios[definition_id]]


async def test_explicit_scenarios_are_stored_in_order(db: Database, admin: Principal) -> None:
    definition = await create_definition(
        db,
        admin,
        name="  Capitals ",
        template="What is the capital of France?",
        scenarios=["first", "second", "first", "third"],
    )
    assert definition.name == "Capitals"
    assert definition.created_by == "alice"
    assert definition.created_at is not None
    assert await _current_texts(db, definition.id) == ["first", "second", "third"]


async def test_combinatorial_expansion_covers_every_level_combination(
    db: Database, admin: Principal
) -> None:
    definition = await create_definition(
        db,
        admin,
        name="Tone",
        preamble="You are terse.",
        template="Write a {{ tone }} note about {{topic}}.",
        dimensions=[
            {"name": "tone", "levels": ["happy", "sad"]},
            {"name": "topic", "levels": ["rain", "sun", "snow"]},
        ],
    )
    texts = await _current_texts(db, definition.id)
    assert texts == [
        "Write a happy note about rain.",
        "Write a happy note about sun.",
        "Write a happy note about snow.",
        "Write a sad note about rain.",
        "Write a sad note about sun.",
        "Write a sad note about snow.",
    ]
    assert [d.name for d in definition_dimensions(definition)] == ["tone", "topic"]


async def test_template_without_dimensions_is_its_own_scenario(
    db: Database, admin: Principal
) -> None:
    definition = await create_definition(db, admin, name="One", template="Just this.")
    assert await _current_texts(db, definition.id) == ["Just this."]


def _dim(name: str, *levels: str) -> dict[str, object]:
    return {"name": name, "levels": list(levels)}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": " ", "template": "t"}, "name"),
        ({"name": "n", "template": ""}, "template"),
        ({"name": "n", "template": "x" * 20_001}, "template"),
        ({"name": "n", "template": "Hi {{who}}"}, "template"),
        ({"name": "n", "template": "Hi", "dimensions": [_dim("who", "a")]}, "dimensions"),
        (
            {"name": "n", "template": "{{a b}}", "dimensions": [_dim("a b", "x")]},
            "dimensions[0].name",
        ),
        ({"name": "n", "template": "{{a}}", "dimensions": [_dim("a")]}, "dimensions[0].levels"),
        (
            {"name": "n", "template": "{{a}}", "dimensions": [_dim("a", "x", "x")]},
            "dimensions[0].levels",
        ),
        ({"name": "n", "template": "{{a}}", "dimensions": ["a"]}, "dimensions[0]"),
        (
            {"name": "n", "template": "{{a}}", "dimensions": [_dim("a", "x"), _dim("a", "y")]},
            "dimensions",
        ),
        ({"name": "n", "template": "t", "scenarios": ["ok", "  "]}, "scenarios[1]"),
    ],
)
async def test_invalid_definitions_name_the_field(
    db: Database, admin: Principal, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        await create_definition(db, admin, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.code is ErrorCode.VALIDATION_ERROR


async def test_undeclared_placeholders_are_listed(db: Database, admin: Principal) -> None:
    with pytest.raises(ValidationError) as caught:
        await create_definition(
            db,
            admin,
            name="n",
            template="{{a}} and {{b}} and {{c}}",
            dimensions=[{"name": "a", "levels": ["1"]}],
        )
    assert caught.value.details["undeclared"] == ["b", "c"]
    assert "{{b}}" in caught.value.message


async def test_combination_count_is_capped_with_a_clear_error(
    db: Database, admin: Principal
) -> None:
    levels = [str(i) for i in range(30)]
    with pytest.raises(ValidationError) as caught:
        await create_definition(
            db,
            admin,
            name="Too big",
            template="{{a}} {{b}} {{c}}",
            dimensions=[{"name": name, "levels": levels} for name in "abc"],
        )
    assert caught.value.details == {
        "field": "dimensions",
        "combinations": 27_000,
        "maximum": MAX_SCENARIOS,
    }
    assert "27000 combinations" in caught.value.message
    assert await list_definitions(db) == []


async def test_viewers_cannot_create_definitions(db: Database, viewer: Principal) -> None:
    with pytest.raises(ForbiddenError):
        await create_definition(db, viewer, name="n", template="t")


async def test_combinatorial_reexpansion_keeps_old_scenarios_for_history(
    db: Database, admin: Principal
) -> None:
    definition = await create_definition(
        db,
        admin,
        name="Colours",
        template="Name something {{colour}}.",
        dimensions=[{"name": "colour", "levels": ["red", "blue"]}],
        scenarios=["Name a fruit."],
    )
    old = (await scenarios_by_definition_ids(db, [definition.id]))[definition.id]
    assert await expand_combinatorially(db, admin, definition.id) == 2
    assert await _current_texts(db, definition.id) == [
        "Name something red.",
        "Name something blue.",
    ]
    kept = await scenarios_by_ids(db, [old[0].id])
    assert kept[old[0].id].text == "Name a fruit."
    assert kept[old[0].id].is_current is False


async def test_reads(db: Database, admin: Principal) -> None:
    first = await create_definition(db, admin, name="first", template="t1")
    second = await create_definition(db, admin, name="second", template="t2")
    assert [d.id for d in await list_definitions(db)] == [second.id, first.id]
    assert [d.id for d in await list_definitions(db, limit=1, offset=1)] == [first.id]
    assert (await get_definition(db, first.id)).name == "first"
    assert set(await definitions_by_ids(db, [first.id, second.id, 999])) == {first.id, second.id}
    assert await definitions_by_ids(db, []) == {}
    assert await scenarios_by_ids(db, []) == {}
    assert await scenarios_by_definition_ids(db, []) == {}
    with pytest.raises(NotFoundError):
        await get_definition(db, 999)
    with pytest.raises(NotFoundError):
        await expand_combinatorially(db, admin, 999)

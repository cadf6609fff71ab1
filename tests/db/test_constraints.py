"""The database itself refuses bad catalogue states, whatever code talks to it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from modeldesk.db.session import Database


async def _openai_id(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(text("SELECT id FROM llm_providers WHERE name='openai'")))


async def _assert_refused(
    db: Database, match: str, statement: str, parameters: dict[str, int] | None = None
) -> None:
    """The statement fails on an integrity rule whose message matches `match`."""
    with pytest.raises(IntegrityError, match=match):
        async with db.transaction() as session:
            await session.execute(text(statement), parameters)


async def test_two_defaults_for_one_provider_fail_on_the_partial_unique_index(
    seeded_db: Database,
) -> None:
    await _assert_refused(
        seeded_db,
        "uq_llm_models_one_default_per_provider",
        "UPDATE llm_models SET is_default = true WHERE provider_id = :p",
        {"p": await _openai_id(seeded_db)},
    )


async def test_duplicate_model_id_per_provider_fails(seeded_db: Database) -> None:
    await _assert_refused(
        seeded_db,
        "uq_llm_models_provider_model",
        "INSERT INTO llm_models (provider_id, model_id, display_name) "
        "VALUES (:p, 'gpt-5-mini', 'again')",
        {"p": await _openai_id(seeded_db)},
    )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE llm_models SET cost_input_per_million = -1",
        "UPDATE llm_models SET cost_output_per_million = -0.01",
        "UPDATE llm_providers SET max_parallel_requests = -1",
        "UPDATE llm_providers SET requests_per_minute = -5",
        "UPDATE llm_models SET status = 'GONE'",
        "UPDATE llm_models SET status = 'DEPRECATED' WHERE is_default",
    ],
)
async def test_check_constraints_refuse_out_of_range_values(
    seeded_db: Database, statement: str
) -> None:
    await _assert_refused(seeded_db, "violates check constraint", statement)


async def test_models_with_price_history_cannot_be_deleted(seeded_db: Database) -> None:
    await _assert_refused(
        seeded_db, "foreign key", "DELETE FROM llm_models WHERE model_id = 'gpt-5.1'"
    )


async def test_prices_are_exact_numeric_columns(seeded_db: Database) -> None:
    async with seeded_db.session() as session:
        types = set(
            (
                await session.execute(
                    text(
                        "SELECT data_type FROM information_schema.columns "
                        "WHERE table_name = 'llm_models' AND column_name LIKE 'cost_%'"
                    )
                )
            ).scalars()
        )
    assert types == {"numeric"}

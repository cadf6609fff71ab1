"""Prices as providers bill them: cache-write prices, a long-context tier, reference providers.

Models and price versions gain a cache-write price and an optional long-context
tier (a prompt-token threshold with its own prices). Every new column is null
on existing rows, and null means what those rows always meant: cache writes
billed as input, no tier. So every existing price version and transcript
snapshot keeps its meaning, and no recorded cost changes.

Transcripts gain `cache_write_tokens` (0 on existing rows: their snapshots
never counted cache writes apart). Providers gain `reference_provider`, the
genai-prices provider whose prices they charge (null: their own name); xAI is
`x-ai` there, as the seed says for new databases.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRICE_TABLES = ("llm_models", "llm_model_price_versions")
_TIER_PRICES = (
    "long_context_cost_input_per_million",
    "long_context_cost_cached_input_per_million",
    "long_context_cost_cache_write_per_million",
    "long_context_cost_output_per_million",
)
_CHECKS = {
    "cache_write_price": (
        "cost_cache_write_per_million IS NULL OR cost_cache_write_per_million >= 0"
    ),
    "long_context_threshold": "long_context_threshold IS NULL OR long_context_threshold > 0",
    "long_context_prices": " AND ".join(
        f"({column} IS NULL OR {column} >= 0)" for column in _TIER_PRICES
    ),
    "long_context_prices_need_threshold": "long_context_threshold IS NOT NULL OR NOT ("
    + " OR ".join(f"{column} IS NOT NULL" for column in _TIER_PRICES)
    + ")",
}


def upgrade() -> None:
    op.add_column(
        "llm_providers", sa.Column("reference_provider", sa.String(length=100), nullable=True)
    )
    op.execute(
        "UPDATE llm_providers SET reference_provider = 'x-ai' "
        "WHERE name = 'xai' AND reference_provider IS NULL"
    )
    for table in _PRICE_TABLES:
        op.add_column(table, sa.Column("cost_cache_write_per_million", sa.Numeric(), nullable=True))
        op.add_column(table, sa.Column("long_context_threshold", sa.Integer(), nullable=True))
        for column in _TIER_PRICES:
            op.add_column(table, sa.Column(column, sa.Numeric(), nullable=True))
        for name, condition in _CHECKS.items():
            op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition)
    op.add_column(
        "transcripts",
        sa.Column("cache_write_tokens", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_transcripts_cache_write_tokens_non_negative"),
        "transcripts",
        "cache_write_tokens >= 0",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_transcripts_cache_write_tokens_non_negative"), "transcripts", type_="check"
    )
    op.drop_column("transcripts", "cache_write_tokens")
    for table in reversed(_PRICE_TABLES):
        for name in reversed(list(_CHECKS)):
            op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        for column in reversed(_TIER_PRICES):
            op.drop_column(table, column)
        op.drop_column(table, "long_context_threshold")
        op.drop_column(table, "cost_cache_write_per_million")
    op.drop_column("llm_providers", "reference_provider")

"""Catalogue: providers, models, price versions, settings, tokens, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 08:11:22.746972
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'viewer')", name=op.f("ck_api_tokens_role_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(
        op.f("ix_audit_entries_created_at"), "audit_entries", ["created_at"], unique=False
    )
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    op.create_table(
        "llm_providers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column(
            "max_parallel_requests", sa.Integer(), server_default=sa.text("1"), nullable=False
        ),
        sa.Column(
            "requests_per_minute", sa.Integer(), server_default=sa.text("60"), nullable=False
        ),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("api_style", sa.String(length=20), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("api_key_env", sa.String(length=200), nullable=True),
        sa.Column("default_input_price", sa.Numeric(), nullable=True),
        sa.Column("default_output_price", sa.Numeric(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "api_style IN ('OPENAI', 'ANTHROPIC', 'GEMINI')",
            name=op.f("ck_llm_providers_api_style_known"),
        ),
        sa.CheckConstraint(
            "default_input_price IS NULL OR default_input_price >= 0",
            name=op.f("ck_llm_providers_default_input_price"),
        ),
        sa.CheckConstraint(
            "default_output_price IS NULL OR default_output_price >= 0",
            name=op.f("ck_llm_providers_default_output_price"),
        ),
        sa.CheckConstraint(
            "max_parallel_requests >= 0", name=op.f("ck_llm_providers_max_parallel_non_negative")
        ),
        sa.CheckConstraint(
            "requests_per_minute >= 0", name=op.f("ck_llm_providers_rpm_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_providers")),
        sa.UniqueConstraint("name", name=op.f("uq_llm_providers_name")),
    )
    op.create_table(
        "system_settings",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_system_settings")),
    )
    op.create_table(
        "llm_models",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("cost_input_per_million", sa.Numeric(), nullable=True),
        sa.Column("cost_output_per_million", sa.Numeric(), nullable=True),
        sa.Column("cost_cached_input_per_million", sa.Numeric(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="ACTIVE", nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "NOT (is_default AND status = 'DEPRECATED')",
            name=op.f("ck_llm_models_default_is_active"),
        ),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'DEPRECATED')", name=op.f("ck_llm_models_status_known")
        ),
        sa.CheckConstraint(
            "cost_cached_input_per_million IS NULL OR cost_cached_input_per_million >= 0",
            name=op.f("ck_llm_models_cached_input_price"),
        ),
        sa.CheckConstraint(
            "cost_input_per_million IS NULL OR cost_input_per_million >= 0",
            name=op.f("ck_llm_models_input_price"),
        ),
        sa.CheckConstraint(
            "cost_output_per_million IS NULL OR cost_output_per_million >= 0",
            name=op.f("ck_llm_models_output_price"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_llm_models_provider_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_models")),
        sa.UniqueConstraint("provider_id", "model_id", name="uq_llm_models_provider_model"),
    )
    op.create_index(op.f("ix_llm_models_provider_id"), "llm_models", ["provider_id"], unique=False)
    op.create_index(
        "uq_llm_models_one_default_per_provider",
        "llm_models",
        ["provider_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "llm_model_price_versions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("cost_input_per_million", sa.Numeric(), nullable=True),
        sa.Column("cost_output_per_million", sa.Numeric(), nullable=True),
        sa.Column("cost_cached_input_per_million", sa.Numeric(), nullable=True),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cost_cached_input_per_million IS NULL OR cost_cached_input_per_million >= 0",
            name=op.f("ck_llm_model_price_versions_cached_input"),
        ),
        sa.CheckConstraint(
            "cost_input_per_million IS NULL OR cost_input_per_million >= 0",
            name=op.f("ck_llm_model_price_versions_input"),
        ),
        sa.CheckConstraint(
            "cost_output_per_million IS NULL OR cost_output_per_million >= 0",
            name=op.f("ck_llm_model_price_versions_output"),
        ),
        sa.CheckConstraint(
            "effective_until IS NULL OR effective_until >= effective_from",
            name=op.f("ck_llm_model_price_versions_period_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["llm_models.id"],
            name=op.f("fk_llm_model_price_versions_model_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_model_price_versions")),
    )
    op.create_index(
        op.f("ix_llm_model_price_versions_model_id"),
        "llm_model_price_versions",
        ["model_id"],
        unique=False,
    )
    op.create_index(
        "uq_llm_model_price_versions_one_open",
        "llm_model_price_versions",
        ["model_id"],
        unique=True,
        postgresql_where=sa.text("effective_until IS NULL"),
    )
    op.execute("INSERT INTO catalog_state (id, version) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_index(
        "uq_llm_model_price_versions_one_open",
        table_name="llm_model_price_versions",
        postgresql_where=sa.text("effective_until IS NULL"),
    )
    op.drop_index(
        op.f("ix_llm_model_price_versions_model_id"), table_name="llm_model_price_versions"
    )
    op.drop_table("llm_model_price_versions")
    op.drop_index(
        "uq_llm_models_one_default_per_provider",
        table_name="llm_models",
        postgresql_where=sa.text("is_default"),
    )
    op.drop_index(op.f("ix_llm_models_provider_id"), table_name="llm_models")
    op.drop_table("llm_models")
    op.drop_table("system_settings")
    op.drop_table("llm_providers")
    op.drop_table("catalog_state")
    op.drop_index(op.f("ix_audit_entries_created_at"), table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_table("api_tokens")

"""Catalogue tables.

The rules that must hold whatever code runs against the database live here as
constraints, not only in services: one default per provider (partial unique
index), non-negative prices and limits, no default that is deprecated, one open
price version per model, and RESTRICT foreign keys so referenced rows survive.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from modeldesk.db.sql_values import sql_list, sql_value
from modeldesk.enums import ApiStyle, ModelStatus

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    pass


Base.metadata.naming_convention = NAMING_CONVENTION


def one_of(column: str, vocabulary: Iterable[StrEnum]) -> str:
    """A CHECK constraint's text: `column` holds one of a vocabulary of `enums`."""
    return f"{column} IN ({sql_list(vocabulary)})"


def count_column(column_type: type[Integer] = Integer) -> Mapped[int]:
    """A count that starts at 0 and is never null (BigInteger where it sums across runs)."""
    return mapped_column(column_type, nullable=False, server_default=text("0"))


def cost_column() -> Mapped[Decimal]:
    """A cost in USD that starts at 0 and is never null."""
    return mapped_column(Numeric, nullable=False, server_default=text("0"))


def _price_check(column: str, name: str) -> CheckConstraint:
    """A price is unset or 0 or more."""
    return CheckConstraint(f"{column} IS NULL OR {column} >= 0", name=name)


def _base_price_checks(name_suffix: str) -> tuple[CheckConstraint, ...]:
    """Input, output and cached input prices; the two tables name these checks apart."""
    return (
        _price_check("cost_input_per_million", f"input{name_suffix}"),
        _price_check("cost_output_per_million", f"output{name_suffix}"),
        _price_check("cost_cached_input_per_million", f"cached_input{name_suffix}"),
    )


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class LlmProvider(Base):
    __tablename__ = "llm_providers"
    __table_args__ = (
        CheckConstraint("max_parallel_requests >= 0", name="max_parallel_non_negative"),
        CheckConstraint("requests_per_minute >= 0", name="rpm_non_negative"),
        CheckConstraint(one_of("api_style", ApiStyle), name="api_style_known"),
        _price_check("default_input_price", "default_input_price"),
        _price_check("default_output_price", "default_output_price"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    max_parallel_requests: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("1")
    )
    requests_per_minute: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("60")
    )
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    api_style: Mapped[str] = mapped_column(String(20), nullable=False)
    base_url: Mapped[str | None] = mapped_column(String(500))
    api_key_env: Mapped[str | None] = mapped_column(String(200))
    # Used for a model with no recorded price; such calls are flagged `unpriced`.
    default_input_price: Mapped[Decimal | None] = mapped_column(Numeric)
    default_output_price: Mapped[Decimal | None] = mapped_column(Numeric)
    # The genai-prices provider whose prices this one charges; None: its own name.
    reference_provider: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    models: Mapped[list[LlmModel]] = relationship(back_populates="provider", lazy="raise")


# A model's prices, and a price version's: the same columns on both tables, so a
# version is opened by copying them. The long-context tier's prices apply to a
# call whose prompt exceeds the threshold; null ones keep the base price.
LONG_CONTEXT_PRICE_COLUMNS = (
    "long_context_cost_input_per_million",
    "long_context_cost_cached_input_per_million",
    "long_context_cost_cache_write_per_million",
    "long_context_cost_output_per_million",
)
PRICE_COLUMNS = (
    "cost_input_per_million",
    "cost_output_per_million",
    "cost_cached_input_per_million",
    "cost_cache_write_per_million",
    "long_context_threshold",
    *LONG_CONTEXT_PRICE_COLUMNS,
)


def _tier_checks() -> tuple[CheckConstraint, ...]:
    """Tier prices need a threshold; the threshold and every added price have a range."""
    tier_prices_set = " OR ".join(f"{column} IS NOT NULL" for column in LONG_CONTEXT_PRICE_COLUMNS)
    return (
        _price_check("cost_cache_write_per_million", "cache_write_price"),
        CheckConstraint(
            "long_context_threshold IS NULL OR long_context_threshold > 0",
            name="long_context_threshold",
        ),
        CheckConstraint(
            " AND ".join(
                f"({column} IS NULL OR {column} >= 0)" for column in LONG_CONTEXT_PRICE_COLUMNS
            ),
            name="long_context_prices",
        ),
        CheckConstraint(
            f"long_context_threshold IS NOT NULL OR NOT ({tier_prices_set})",
            name="long_context_prices_need_threshold",
        ),
    )


class _PriceColumns:
    """The price columns beyond input, output and cached input (see PRICE_COLUMNS)."""

    cost_cache_write_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    long_context_threshold: Mapped[int | None] = mapped_column(Integer)
    long_context_cost_input_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    long_context_cost_cached_input_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    long_context_cost_cache_write_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    long_context_cost_output_per_million: Mapped[Decimal | None] = mapped_column(Numeric)


class LlmModel(_PriceColumns, Base):
    __tablename__ = "llm_models"
    __table_args__ = (
        UniqueConstraint("provider_id", "model_id", name="uq_llm_models_provider_model"),
        *_base_price_checks("_price"),
        *_tier_checks(),
        CheckConstraint(one_of("status", ModelStatus), name="status_known"),
        CheckConstraint(
            f"NOT (is_default AND status = {sql_value(ModelStatus.DEPRECATED)})",
            name="default_is_active",
        ),
        Index(
            "uq_llm_models_one_default_per_provider",
            "provider_id",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("llm_providers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    model_id: Mapped[str] = mapped_column(String(200), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    cost_input_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    cost_output_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    cost_cached_input_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="ACTIVE")
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    provider: Mapped[LlmProvider] = relationship(back_populates="models", lazy="raise")


class LlmModelPriceVersion(_PriceColumns, Base):
    """One period of a model's prices. Never updated except to close it."""

    __tablename__ = "llm_model_price_versions"
    __table_args__ = (
        *_base_price_checks(""),
        *_tier_checks(),
        CheckConstraint(
            "effective_until IS NULL OR effective_until >= effective_from", "period_ordered"
        ),
        Index(
            "uq_llm_model_price_versions_one_open",
            "model_id",
            unique=True,
            postgresql_where=text("effective_until IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("llm_models.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    cost_input_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    cost_output_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    cost_cached_input_per_million: Mapped[Decimal | None] = mapped_column(Numeric)
    effective_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    effective_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()


class SystemSetting(Base):
    __tablename__ = "system_settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database dump reveals none."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("role IN ('admin', 'viewer')", name="role_known"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    token_prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = _created_at()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(100), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(200), nullable=False)
    before: Mapped[Any | None] = mapped_column(JSONB)
    after: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), index=True
    )


class CatalogState(Base):
    """A single row whose version moves with every catalogue change.

    Caches key on it; the change also NOTIFYs, so every process learns of it
    at commit time and never serves a stale read.
    """

    __tablename__ = "catalog_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))

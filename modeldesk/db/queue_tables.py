"""Shared per-provider state of the probe queue: holds, the requests-per-minute window,
the last failed call.

Every worker on every machine reads and writes these rows, so a provider's hold
and its call budget are one fact for the whole fleet, not one per process.
Rows are operational state, never history: they go with their provider
(ON DELETE CASCADE) and are overwritten as they age.

pgqueuer's own tables (`pgqueuer`, `pgqueuer_log`, ...) are created by
migration 0003 from pgqueuer's install SQL and are not mapped here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from modeldesk.db.tables import Base

# The tables pgqueuer 1.6 installs; the migration environment leaves them out of
# autogenerate, which would otherwise propose dropping them.
PGQUEUER_TABLES = frozenset(
    {"pgqueuer", "pgqueuer_log", "pgqueuer_schedules", "pgqueuer_statistics"}
)


class ProviderHold(Base):
    """No call of the provider starts before `held_until` (set after a rate limit)."""

    __tablename__ = "provider_holds"

    provider_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("llm_providers.id", ondelete="CASCADE"), primary_key=True
    )
    held_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


class ProviderRequestStart(Base):
    """One lane of a provider's sliding 60 s window: the last call start it admitted.

    A provider has at most `requests_per_minute` lanes, and a lane admits a new
    start only once its previous one is 60 s old, so no 60 s window can hold
    more starts than there are lanes. The table never grows past the limit.
    """

    __tablename__ = "provider_request_starts"
    __table_args__ = (
        CheckConstraint("lane >= 0", name="lane_non_negative"),
        Index("ix_provider_request_starts_provider_started", "provider_id", "started_at"),
    )

    provider_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("llm_providers.id", ondelete="CASCADE"), primary_key=True
    )
    lane: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ProviderWaitingLine(Base):
    """When the next call turned away by a full window should come back.

    Each turn moves it on by 60 s / requests_per_minute, so waiting jobs return
    spread out at the provider's rate instead of all at the same moment.
    """

    __tablename__ = "provider_waiting_lines"

    provider_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("llm_providers.id", ondelete="CASCADE"), primary_key=True
    )
    next_turn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ProviderLastError(Base):
    """The provider's most recent failed call, from any worker, for the live provider view."""

    __tablename__ = "provider_last_errors"

    provider_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("llm_providers.id", ondelete="CASCADE"), primary_key=True
    )
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    code: Mapped[str] = mapped_column(Text, nullable=False)
    # Already redacted by the adapter that raised it: no key can be stored here.
    message: Mapped[str] = mapped_column(Text, nullable=False)

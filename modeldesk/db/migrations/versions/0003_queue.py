"""Probe queue: pgqueuer's schema, provider holds, the requests-per-minute window.

pgqueuer's tables, enum, trigger and notify function come from its own install
SQL (pgqueuer is pinned to 1.6, whose schema this is); a later pgqueuer with a
different schema gets a migration of its own that runs its upgrade.

`modeldesk_admit_call(provider_id)` decides, for the whole fleet at once,
whether a call of a provider may start now: the provider must be enabled and
not held, and a lane of its sliding 60 s window must be free. It runs in one
round trip under a per-provider transaction lock, so two workers can never
both take the last slot of a window. A caller turned away by a full window is
given a turn in the provider's waiting line: waiters come back one by one at
the provider's rate (within the next two minutes), not all at once whenever a
slot frees, which would re-run every waiting job once per slot.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Dollar-quote tag for pgqueuer's script, which itself uses $$ for its function body.
_SCRIPT_TAG = "$pgqueuer_script$"

ADMIT_CALL_FUNCTION = """
CREATE FUNCTION modeldesk_admit_call(p_provider_id bigint)
RETURNS TABLE (wait_seconds double precision, reason text)
LANGUAGE plpgsql AS $$
DECLARE
    v_enabled boolean;
    v_limit integer;
    v_held_until timestamptz;
    v_now timestamptz;
    v_lanes integer;
    v_lane integer;
    v_oldest timestamptz;
    v_turn timestamptz;
BEGIN
    SELECT p.is_enabled, GREATEST(p.requests_per_minute, 1) INTO v_enabled, v_limit
    FROM llm_providers p WHERE p.id = p_provider_id;
    IF NOT FOUND OR NOT v_enabled THEN
        RETURN QUERY SELECT NULL::double precision, 'disabled'::text;
        RETURN;
    END IF;

    -- One admission at a time per provider, fleet-wide; released at commit.
    PERFORM pg_advisory_xact_lock(1835295852, (p_provider_id % 2147483647)::integer);
    v_now := clock_timestamp();

    SELECT h.held_until INTO v_held_until FROM provider_holds h
    WHERE h.provider_id = p_provider_id;
    IF v_held_until > v_now THEN
        RETURN QUERY SELECT EXTRACT(EPOCH FROM v_held_until - v_now)::double precision,
                            'held'::text;
        RETURN;
    END IF;

    SELECT COALESCE(MAX(s.lane) + 1, 0) INTO v_lanes FROM provider_request_starts s
    WHERE s.provider_id = p_provider_id;
    IF v_lanes > v_limit THEN
        -- The limit went down: keep the most recent starts, one per remaining lane,
        -- so the starts already in the window still count against the new limit.
        DELETE FROM provider_request_starts s
        WHERE s.provider_id = p_provider_id
          AND s.lane NOT IN (
              SELECT k.lane FROM provider_request_starts k
              WHERE k.provider_id = p_provider_id
              ORDER BY k.started_at DESC, k.lane
              LIMIT v_limit);
        -- Renumber to 0..limit-1; lifting every lane above the old range first
        -- keeps the primary key free of collisions on the way.
        UPDATE provider_request_starts s SET lane = s.lane + v_lanes
        WHERE s.provider_id = p_provider_id;
        UPDATE provider_request_starts s SET lane = r.position - 1
        FROM (
            SELECT k.lane, ROW_NUMBER() OVER (ORDER BY k.lane) AS position
            FROM provider_request_starts k WHERE k.provider_id = p_provider_id
        ) r
        WHERE s.provider_id = p_provider_id AND s.lane = r.lane;
        v_lanes := v_limit;
    END IF;

    SELECT s.lane, s.started_at INTO v_lane, v_oldest FROM provider_request_starts s
    WHERE s.provider_id = p_provider_id
    ORDER BY s.started_at, s.lane
    LIMIT 1;
    IF FOUND AND v_oldest <= v_now - interval '60 seconds' THEN
        UPDATE provider_request_starts SET started_at = v_now
        WHERE provider_id = p_provider_id AND lane = v_lane;
    ELSIF v_lanes < v_limit THEN
        INSERT INTO provider_request_starts (provider_id, lane, started_at)
        VALUES (p_provider_id, v_lanes, v_now);
    ELSE
        -- The next turn: when the oldest lane frees, or after the last waiter,
        -- but never more than two minutes ahead (waiters whose jobs were since
        -- discarded must not keep the line long).
        SELECT GREATEST(
                   v_oldest + interval '60 seconds',
                   LEAST(COALESCE(MAX(w.next_turn_at), '-infinity'),
                         v_now + interval '120 seconds'))
        INTO v_turn FROM provider_waiting_lines w WHERE w.provider_id = p_provider_id;
        INSERT INTO provider_waiting_lines AS line (provider_id, next_turn_at)
        VALUES (p_provider_id, v_turn + make_interval(secs => 60.0 / v_limit))
        ON CONFLICT (provider_id) DO UPDATE SET next_turn_at = EXCLUDED.next_turn_at;
        RETURN QUERY SELECT EXTRACT(EPOCH FROM v_turn - v_now)::double precision,
                            'rate_window'::text;
        RETURN;
    END IF;
    RETURN QUERY SELECT 0::double precision, 'admitted'::text;
END;
$$;
"""


def _run_script(script: str) -> None:
    """Run a multi-statement script as one statement (the driver prepares each one)."""
    if _SCRIPT_TAG in script:
        raise RuntimeError("pgqueuer's script contains our quoting tag; pick another")
    op.execute(f"DO $do$ BEGIN EXECUTE {_SCRIPT_TAG}{script}{_SCRIPT_TAG}; END $do$")


def upgrade() -> None:
    _run_script(QueryBuilderEnvironment().build_install_query())
    op.create_table(
        "provider_holds",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_provider_holds_provider_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_provider_holds")),
    )
    op.create_table(
        "provider_request_starts",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("lane >= 0", name=op.f("ck_provider_request_starts_lane_non_negative")),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_provider_request_starts_provider_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "lane", name=op.f("pk_provider_request_starts")),
    )
    op.create_table(
        "provider_waiting_lines",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("next_turn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["llm_providers.id"],
            name=op.f("fk_provider_waiting_lines_provider_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_provider_waiting_lines")),
    )
    op.create_index(
        "ix_provider_request_starts_provider_started",
        "provider_request_starts",
        ["provider_id", "started_at"],
        unique=False,
    )
    op.execute(ADMIT_CALL_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS modeldesk_admit_call(bigint)")
    op.drop_index(
        "ix_provider_request_starts_provider_started", table_name="provider_request_starts"
    )
    op.drop_table("provider_waiting_lines")
    op.drop_table("provider_request_starts")
    op.drop_table("provider_holds")
    _run_script(QueryBuilderEnvironment().build_uninstall_query())

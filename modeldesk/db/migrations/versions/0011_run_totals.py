"""Runs at scale (SPEC 9.7): running totals, transcript paging, pgqueuer's table settings.

- run_model_totals and model_usage_totals (see `modeldesk.db.total_tables`),
  filled from the transcripts already recorded and kept by statement-level
  triggers on `transcripts` from then on.
- ix_transcripts_run_id_id: a run's transcripts in order, for paging.
- queue_log_trims: when pgqueuer's log was last trimmed (`modeldesk.db.queue_log`).
- pgqueuer's recommended storage and autovacuum settings on its tables
  (`QueryBuilderEnvironment.build_optimize_autovacuum_query`): without them the
  queue table's dead rows slowed draining from 293 to 86 probes/s.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUERIES = QueryBuilderEnvironment()


def _counts(*names: str) -> list[sa.Column[int]]:
    return [
        sa.Column(n, sa.BigInteger(), server_default=sa.text("0"), nullable=False) for n in names
    ]


def _add_rows(source: str, sign: str) -> list[str]:
    """Add (sign "+") or subtract ("-") a transition table's rows to both totals.

    Rows are grouped and ordered by key, so two statements touching the same
    totals lock them in the same order and never deadlock.
    """
    return [
        f"""
    INSERT INTO run_model_totals AS t
        (run_id, model_id, succeeded, failed, skipped, input_tokens, output_tokens, cost, unpriced)
    SELECT run_id, model_id,
        {sign}count(*) FILTER (WHERE status = 'SUCCEEDED'),
        {sign}count(*) FILTER (WHERE status = 'FAILED'),
        {sign}count(*) FILTER (WHERE status = 'SKIPPED'),
        {sign}coalesce(sum(input_tokens), 0), {sign}coalesce(sum(output_tokens), 0),
        {sign}coalesce(sum(estimated_cost), 0), {sign}count(*) FILTER (WHERE unpriced)
    FROM {source} GROUP BY run_id, model_id ORDER BY run_id, model_id
    ON CONFLICT (run_id, model_id) DO UPDATE SET
        succeeded = t.succeeded + excluded.succeeded,
        failed = t.failed + excluded.failed,
        skipped = t.skipped + excluded.skipped,
        input_tokens = t.input_tokens + excluded.input_tokens,
        output_tokens = t.output_tokens + excluded.output_tokens,
        cost = t.cost + excluded.cost,
        unpriced = t.unpriced + excluded.unpriced""",
        f"""
    INSERT INTO model_usage_totals AS t
        (model_id, succeeded, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens)
    SELECT model_id, {sign}count(*), {sign}sum(input_tokens), {sign}sum(output_tokens),
        {sign}sum(cached_input_tokens), {sign}sum(cache_write_tokens)
    FROM {source} WHERE status = 'SUCCEEDED' GROUP BY model_id ORDER BY model_id
    ON CONFLICT (model_id) DO UPDATE SET
        succeeded = t.succeeded + excluded.succeeded,
        input_tokens = t.input_tokens + excluded.input_tokens,
        output_tokens = t.output_tokens + excluded.output_tokens,
        cached_input_tokens = t.cached_input_tokens + excluded.cached_input_tokens,
        cache_write_tokens = t.cache_write_tokens + excluded.cache_write_tokens""",
    ]


def _statements(statements: list[str]) -> str:
    return ";\n".join(statements) + ";"


_TRIGGER_FUNCTION = f"""
CREATE FUNCTION modeldesk_transcript_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_statements(_add_rows("old_rows", "-"))}
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_statements(_add_rows("new_rows", "+"))}
    END IF;
    RETURN NULL;
END
$$
"""

# PostgreSQL allows transition tables only on single-event triggers: one each.
_TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _split(script: str) -> list[str]:
    """pgqueuer's scripts hold several statements; asyncpg runs one per call."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]


def upgrade() -> None:
    op.create_table(
        "run_model_totals",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        *_counts("succeeded", "failed", "skipped", "input_tokens", "output_tokens"),
        sa.Column("cost", sa.Numeric(), server_default=sa.text("0"), nullable=False),
        sa.Column("unpriced", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_run_model_totals_run_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["llm_models.id"],
            name=op.f("fk_run_model_totals_model_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("run_id", "model_id", name=op.f("pk_run_model_totals")),
    )
    op.create_index(
        op.f("ix_run_model_totals_model_id"), "run_model_totals", ["model_id"], unique=False
    )
    op.create_table(
        "model_usage_totals",
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        *_counts(
            "succeeded",
            "input_tokens",
            "output_tokens",
            "cached_input_tokens",
            "cache_write_tokens",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["llm_models.id"],
            name=op.f("fk_model_usage_totals_model_id"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_model_usage_totals")),
    )
    op.create_table(
        "queue_log_trims",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("trimmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_log_trims")),
    )
    op.create_index("ix_transcripts_run_id_id", "transcripts", ["run_id", "id"], unique=False)
    op.execute(_TRIGGER_FUNCTION)
    for event, referencing in _TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER transcript_totals_{event.lower()} AFTER {event} ON transcripts "
            f"{referencing} FOR EACH STATEMENT EXECUTE FUNCTION modeldesk_transcript_totals()"
        )
    # The transcripts recorded before the triggers existed.
    for statement in _add_rows("transcripts", "+"):
        op.execute(statement)
    for statement in _split(_QUERIES.build_optimize_autovacuum_query()):
        op.execute(statement)


def downgrade() -> None:
    for statement in _split(_QUERIES.build_optimize_autovacuum_rollback_query()):
        op.execute(statement)
    for event in _TRIGGERS:
        op.execute(f"DROP TRIGGER transcript_totals_{event.lower()} ON transcripts")
    op.execute("DROP FUNCTION modeldesk_transcript_totals()")
    op.drop_index("ix_transcripts_run_id_id", table_name="transcripts")
    op.drop_table("queue_log_trims")
    op.drop_table("model_usage_totals")
    op.drop_index(op.f("ix_run_model_totals_model_id"), table_name="run_model_totals")
    op.drop_table("run_model_totals")

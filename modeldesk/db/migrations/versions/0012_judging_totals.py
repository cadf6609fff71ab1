"""Running totals of judging (SPEC 9.5, 9.7): each summary counted per (run, model).

run_model_totals gains the judged summaries of each target model's answers
(completed and failed) and what the judge's calls cost. A row-level trigger on
transcript_summaries keeps them in the transaction that writes the summary,
as migration 0011's triggers do for transcripts, so a run's cost breakdown
reads its infrastructure cost from these rows instead of summing summaries.

The trigger fires after the statement's own changes (AFTER ROW triggers run
at the end of the statement), so a summary's statement locks its run before
its totals row, in the order the probe step's statement takes them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("summaries_completed", "summaries_failed")

_TRIGGER_FUNCTION = """
CREATE FUNCTION modeldesk_summary_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_completed integer := 0;
    v_failed integer := 0;
    v_cost numeric := 0;
    v_run_id bigint;
    v_transcript_id bigint;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_completed := v_completed - (OLD.status = 'COMPLETED')::integer;
        v_failed := v_failed - (OLD.status = 'FAILED')::integer;
        v_cost := v_cost - OLD.estimated_cost;
        v_run_id := OLD.run_id;
        v_transcript_id := OLD.transcript_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        v_completed := v_completed + (NEW.status = 'COMPLETED')::integer;
        v_failed := v_failed + (NEW.status = 'FAILED')::integer;
        v_cost := v_cost + NEW.estimated_cost;
        v_run_id := NEW.run_id;
        v_transcript_id := NEW.transcript_id;
    END IF;
    IF v_completed = 0 AND v_failed = 0 AND v_cost = 0 THEN
        RETURN NULL;
    END IF;
    INSERT INTO run_model_totals AS t
        (run_id, model_id, summaries_completed, summaries_failed, judge_cost)
    SELECT v_run_id, tr.model_id, v_completed, v_failed, v_cost
    FROM transcripts tr WHERE tr.id = v_transcript_id
    ON CONFLICT (run_id, model_id) DO UPDATE SET
        summaries_completed = t.summaries_completed + excluded.summaries_completed,
        summaries_failed = t.summaries_failed + excluded.summaries_failed,
        judge_cost = t.judge_cost + excluded.judge_cost;
    RETURN NULL;
END
$$
"""

_BACKFILL = """
INSERT INTO run_model_totals AS t
    (run_id, model_id, summaries_completed, summaries_failed, judge_cost)
SELECT s.run_id, tr.model_id,
    count(*) FILTER (WHERE s.status = 'COMPLETED'),
    count(*) FILTER (WHERE s.status = 'FAILED'),
    coalesce(sum(s.estimated_cost), 0)
FROM transcript_summaries s JOIN transcripts tr ON tr.id = s.transcript_id
GROUP BY s.run_id, tr.model_id
ON CONFLICT (run_id, model_id) DO UPDATE SET
    summaries_completed = excluded.summaries_completed,
    summaries_failed = excluded.summaries_failed,
    judge_cost = excluded.judge_cost
"""


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column(
            "run_model_totals",
            sa.Column(name, sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        )
    op.add_column(
        "run_model_totals",
        sa.Column("judge_cost", sa.Numeric(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(_TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER transcript_summaries_totals"
        " AFTER INSERT OR DELETE OR UPDATE OF status, estimated_cost ON transcript_summaries"
        " FOR EACH ROW EXECUTE FUNCTION modeldesk_summary_totals()"
    )
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS transcript_summaries_totals ON transcript_summaries")
    op.execute("DROP FUNCTION IF EXISTS modeldesk_summary_totals()")
    for name in (*_COLUMNS, "judge_cost"):
        op.drop_column("run_model_totals", name)

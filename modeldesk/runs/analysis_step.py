"""The analysis job: store the run's figures, then ask the analysis model for a report.

The figures are stored first (status RUNNING), so a report that fails leaves
them in place (status FAILED with the error). The job is queued by
`analysis_queue` in the analysis model's provider's queue, after that
provider's admission (see `queue.summary_jobs`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx
from sqlalchemy import text

from modeldesk.catalog import resolve_infra_model
from modeldesk.config import Settings
from modeldesk.db.session import Database
from modeldesk.enums import InfraWorkStatus
from modeldesk.errors import ModeldeskError
from modeldesk.llm import CompletionRequest, complete
from modeldesk.runs.analysis import SAMPLE_PER_MODEL, ModelScores, record_report, store_figures
from modeldesk.runs.analysis_queue import ANALYSIS_PURPOSE
from modeldesk.runs.step_outcome import StepOutcome

logger = logging.getLogger(__name__)

_SYSTEM = (
    "You compare language models from evaluation results. Write a short plain-text "
    "comparison (at most five sentences): which model did best, how sure the figures are, "
    "and what the summaries show about the differences."
)
_SAMPLE = """
SELECT model_id, summary FROM (
    SELECT t.model_id, s.summary,
           row_number() OVER (PARTITION BY t.model_id ORDER BY t.id) AS n
    FROM transcript_summaries s JOIN transcripts t ON t.id = s.transcript_id
    WHERE s.run_id = :run_id AND s.status = :completed
) sampled WHERE n <= :per_model
"""


async def _report_request(
    db: Database, run_id: int, figures: Sequence[ModelScores]
) -> CompletionRequest:
    async with db.session() as session:
        names: dict[int, str] = dict(
            (
                await session.execute(
                    text("SELECT id, model_id FROM llm_models WHERE id = ANY(:ids)"),
                    {"ids": [line.model_id for line in figures]},
                )
            ).all()
        )
        samples = (
            await session.execute(
                text(_SAMPLE),
                {
                    "run_id": run_id,
                    "per_model": SAMPLE_PER_MODEL,
                    "completed": InfraWorkStatus.COMPLETED.value,
                },
            )
        ).all()
    lines = ["Scores per model (mean with its 95% confidence interval):"]
    for line in figures:
        interval = (
            "no interval"
            if line.ci_low is None or line.ci_high is None
            else f"95% CI {line.ci_low:.2f} to {line.ci_high:.2f}"
        )
        mean = "no scores" if line.mean_score is None else f"mean {line.mean_score:.2f}"
        lines.append(f"- {names[line.model_id]}: {line.scored_count} scored, {mean}, {interval}")
    lines += ["", "Sample of the judge's summaries:"]
    lines += [f"- {names.get(model_id, model_id)}: {summary}" for model_id, summary in samples]
    return CompletionRequest.from_prompt("\n".join(lines), system=_SYSTEM, max_output_tokens=600)


async def execute_analysis(
    db: Database, settings: Settings, client: httpx.AsyncClient, run_id: int
) -> StepOutcome:
    """Compute and store the figures, then ask for the report once; safe to repeat."""
    async with db.session() as session:
        status = await session.scalar(
            text("SELECT status FROM run_analyses WHERE run_id = :run_id"), {"run_id": run_id}
        )
    if status is None or status in (InfraWorkStatus.COMPLETED, InfraWorkStatus.FAILED):
        return StepOutcome("done", None)
    figures = await store_figures(db, run_id, InfraWorkStatus.RUNNING)
    try:
        analyst = await resolve_infra_model(db, ANALYSIS_PURPOSE)
        request = await _report_request(db, run_id, figures)
        completion = await complete(client, analyst.target(), request)
    except ModeldeskError as error:
        await record_report(
            db, run_id, report=None, error_code=error.code.value, error_message=error.message
        )
        return StepOutcome("done", None)
    report = completion.text.strip()
    if not report:
        await record_report(
            db,
            run_id,
            report=None,
            error_code="PROVIDER_ERROR",
            error_message="the analysis model answered with no text",
        )
    else:
        await record_report(db, run_id, report=report)
        logger.info("run %s: analysis report written by %s", run_id, analyst.model.model_id)
    return StepOutcome("done", analyst.provider.id)


async def fail_analysis(db: Database, run_id: int, message: str) -> StepOutcome:
    """A bug escaped the analysis step: keep what figures there are, record the report failed."""
    await store_figures(db, run_id, InfraWorkStatus.FAILED)
    await record_report(db, run_id, report=None, error_code="PROVIDER_ERROR", error_message=message)
    return StepOutcome("done", None)

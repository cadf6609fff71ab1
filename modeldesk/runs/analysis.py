"""A run's scores per model, computed, and the analysis model's written comparison.

The figures never come from an LLM: per target model, the count of scored
summaries, their mean and a 95 % confidence interval for the mean from
Student's t distribution (`scipy.stats.t.interval`, with the sample's standard
error). One score gives a mean and no interval; none gives neither. The
analysis model is then asked for a short comparison from those figures and a
sample of summaries; when that fails the figures stay and `status` is FAILED.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats  # type: ignore[import-untyped]
from sqlalchemy import text

from modeldesk.db.session import Database
from modeldesk.enums import InfraWorkStatus

logger = logging.getLogger(__name__)

CONFIDENCE = 0.95
# Summaries per model shown to the analysis model: enough to characterise, bounded in cost.
SAMPLE_PER_MODEL = 5


@dataclass(frozen=True)
class ModelScores:
    model_id: int
    scored_count: int
    mean_score: float | None
    ci_low: float | None
    ci_high: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "scored_count": self.scored_count,
            "mean_score": self.mean_score,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelScores:
        return cls(
            model_id=int(data["model_id"]),
            scored_count=int(data["scored_count"]),
            mean_score=data["mean_score"],
            ci_low=data["ci_low"],
            ci_high=data["ci_high"],
        )


def score_figures(model_id: int, scores: Sequence[float]) -> ModelScores:
    """Count, mean and the t-interval of the mean at `CONFIDENCE`."""
    if not scores:
        return ModelScores(model_id, 0, None, None, None)
    mean = statistics.fmean(scores)
    if len(scores) < 2:
        return ModelScores(model_id, 1, mean, None, None)
    sem = statistics.stdev(scores) / math.sqrt(len(scores))
    if sem == 0:
        return ModelScores(model_id, len(scores), mean, mean, mean)
    low, high = stats.t.interval(CONFIDENCE, len(scores) - 1, loc=mean, scale=sem)
    return ModelScores(model_id, len(scores), mean, float(low), float(high))


_SCORES = """
SELECT rm.model_id, s.score
FROM run_models rm
LEFT JOIN transcripts t ON t.run_id = rm.run_id AND t.model_id = rm.model_id
LEFT JOIN transcript_summaries s
       ON s.transcript_id = t.id AND s.status = :completed AND s.score IS NOT NULL
WHERE rm.run_id = :run_id
ORDER BY rm.position, t.id
"""


async def compute_run_scores(db: Database, run_id: int) -> list[ModelScores]:
    """Each target model's figures, in the run's model order."""
    async with db.session() as session:
        parameters = {"run_id": run_id, "completed": InfraWorkStatus.COMPLETED.value}
        rows = (await session.execute(text(_SCORES), parameters)).all()
    scores: dict[int, list[float]] = defaultdict(list)
    for model_id, score in rows:
        bucket = scores[model_id]  # every target model gets a line, scored or not
        if score is not None:
            bucket.append(float(score))
    return [score_figures(model_id, values) for model_id, values in scores.items()]


async def store_figures(db: Database, run_id: int, status: InfraWorkStatus) -> list[ModelScores]:
    """Compute and store the run's figures with `status`; returns them."""
    figures = await compute_run_scores(db, run_id)
    async with db.transaction() as session:
        await session.execute(
            text(
                "UPDATE run_analyses SET per_model = CAST(:per_model AS jsonb), status = :status,"
                " updated_at = now() WHERE run_id = :run_id"
            ),
            {
                "run_id": run_id,
                "status": status.value,
                "per_model": json.dumps([line.to_json() for line in figures]),
            },
        )
    return figures


async def record_report(
    db: Database,
    run_id: int,
    *,
    report: str | None,
    error_code: str | None = None,
    error_message: str | None = None,
) -> None:
    """The report (COMPLETED) or why there is none (FAILED); the figures stay either way."""
    status = InfraWorkStatus.COMPLETED if report is not None else InfraWorkStatus.FAILED
    async with db.transaction() as session:
        await session.execute(
            text(
                "UPDATE run_analyses SET status = :status, report = :report,"
                " error_code = :error_code, error_message = :error_message, updated_at = now()"
                " WHERE run_id = :run_id"
            ),
            {
                "run_id": run_id,
                "status": status.value,
                "report": report,
                "error_code": error_code,
                "error_message": error_message,
            },
        )
    if report is None:
        logger.warning("run %s: analysis report failed: %s: %s", run_id, error_code, error_message)

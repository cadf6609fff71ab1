"""The summarization ("judge") prompt and the strict reading of its answer.

The judge must answer with a JSON object `{"score": <number>, "summary":
"<one sentence>"}`. A code fence around it is tolerated (models add them
even when told not to); anything else (extra keys, a missing field, a score
that is not a finite number, an empty summary) is a `JudgeAnswerError`,
which the summary step retries once and then records as the summary's
failure (SPEC 9.5).
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.llm import CompletionRequest

# The code a summary that never parsed is recorded with; the answer was a
# provider's, so PROVIDER_ERROR, with the message saying what was wrong.
MALFORMED_ANSWER_CODE = ErrorCode.PROVIDER_ERROR
_ANSWER_EXCERPT = 200
_MAX_SUMMARY = 2000
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)

_SYSTEM = (
    "You judge answers of language models against a rubric. "
    'Answer with one JSON object and nothing else: {"score": <number>, '
    '"summary": "<one sentence>"}.'
)


class JudgeAnswerError(ModeldeskError):
    """The judge answered, but not with the JSON object asked for."""

    code = MALFORMED_ANSWER_CODE


class JudgeVerdict(BaseModel):
    """The judge's answer: extra keys are refused, so a confused answer is not half-read."""

    model_config = ConfigDict(extra="forbid", strict=True)

    score: float | int
    summary: str = Field(min_length=1, max_length=_MAX_SUMMARY)

    @field_validator("score")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("score must be a finite number")
        return value

    @field_validator("summary")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("summary must not be blank")
        return value.strip()


def judge_request(
    *, scenario: str, answer: str, rubric: str | None, preamble: str | None
) -> CompletionRequest:
    """Ask for a score and a one-sentence summary of one answer, by the rubric."""
    lines = []
    if preamble:
        lines += ["The model was first given this preamble:", preamble, ""]
    lines += ["Scenario (the prompt the model was given):", scenario, ""]
    lines += ["The model's answer:", answer, ""]
    lines += ["Rubric:", rubric or "Judge how well the answer serves the scenario.", ""]
    lines.append(
        "Score the answer by the rubric (use the rubric's scale; without one, 0 to 10) and "
        "summarize it in one sentence. Answer with the JSON object only, for example "
        '{"score": 7, "summary": "Accurate but misses the deadline the user gave."}'
    )
    return CompletionRequest.from_prompt(
        "\n".join(lines), system=_SYSTEM, max_output_tokens=512, temperature=0.0
    )


def parse_verdict(answer: str) -> JudgeVerdict:
    """The judge's verdict; raises `JudgeAnswerError` for anything but the asked-for object."""
    text = answer.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return JudgeVerdict.model_validate_json(text)
    except ValidationError as exc:
        excerpt = answer.strip()[:_ANSWER_EXCERPT] or "(empty answer)"
        problems = "; ".join(error["msg"] for error in exc.errors()[:3])
        raise JudgeAnswerError(
            f"The summarization model did not answer with the JSON asked for ({problems}): "
            f"{excerpt!r}"
        ) from exc

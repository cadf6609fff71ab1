"""The scenario-expansion prompt and the robust reading of its answer.

Models wrap JSON in code fences, add a sentence before it, or return objects
instead of strings; all of that is accepted. An answer with no usable list is
an `ExpansionAnswerError`, so the caller keeps the old scenarios.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from modeldesk.errors import ErrorCode, ModeldeskError
from modeldesk.llm import CompletionRequest
from modeldesk.runs.inputs import MAX_PROMPT_TEXT
from modeldesk.runs.templates import Dimension

SCENARIOS_REQUESTED = 20
_ANSWER_EXCERPT = 200
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_TEXT_KEYS = ("text", "scenario", "prompt")

_SYSTEM = (
    "You write test scenarios for evaluating language models. "
    "Answer with a JSON array of strings and nothing else."
)


class ExpansionAnswerError(ModeldeskError):
    """The expansion model answered, but not with a list of scenarios."""

    code = ErrorCode.PROVIDER_ERROR


def expansion_request(
    *, name: str, preamble: str | None, template: str, dimensions: Sequence[Dimension]
) -> CompletionRequest:
    lines = [
        f"Definition: {name}",
        "",
        "Prompt template (placeholders in double braces):",
        template,
        "",
    ]
    if dimensions:
        lines.append("Dimensions and example levels:")
        lines += [f"- {d.name}: {', '.join(d.levels)}" for d in dimensions]
        lines.append("")
    if preamble:
        lines += ["The model under test will see this preamble first:", preamble, ""]
    lines.append(
        f"Write {SCENARIOS_REQUESTED} distinct, realistic scenarios. Each is the complete "
        "prompt text a user would send: the template with every placeholder filled in, "
        "varied across the dimensions (you may go beyond the example levels). "
        'Answer with a JSON array of strings only, for example ["first prompt", "second prompt"].'
    )
    return CompletionRequest.from_prompt("\n".join(lines), system=_SYSTEM, max_output_tokens=8192)


def _json_candidates(answer: str) -> list[str]:
    """Fenced blocks first, then the widest [...] span, then the whole answer."""
    candidates = [match.group(1) for match in _FENCE.finditer(answer)]
    start, end = answer.find("["), answer.rfind("]")
    if 0 <= start < end:
        candidates.append(answer[start : end + 1])
    candidates.append(answer)
    return candidates


def _as_text(item: Any) -> str | None:
    if isinstance(item, dict):
        item = next((item[key] for key in _TEXT_KEYS if isinstance(item.get(key), str)), None)
    if not isinstance(item, str):
        return None
    text = item.strip()
    return text if text and len(text) <= MAX_PROMPT_TEXT else None


def _as_list(data: Any) -> list[Any] | None:
    if isinstance(data, dict):
        data = data.get("scenarios")
    return data if isinstance(data, list) else None


def parse_scenarios(answer: str) -> list[str]:
    """The scenario texts in the model's answer, deduplicated, at most `SCENARIOS_REQUESTED`."""
    for candidate in _json_candidates(answer):
        try:
            items = _as_list(json.loads(candidate))
        except ValueError:
            continue
        if items is None:
            continue
        texts = [text for text in map(_as_text, items) if text is not None]
        if texts:
            return list(dict.fromkeys(texts))[:SCENARIOS_REQUESTED]
    excerpt = answer.strip()[:_ANSWER_EXCERPT] or "(empty answer)"
    raise ExpansionAnswerError(
        f"The expansion model did not answer with a JSON list of scenario texts: {excerpt!r}"
    )

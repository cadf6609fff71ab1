"""Validated inputs for definitions and runs.

The API and the web UI both build these, so every bound ("a template is at most
20 000 characters", "placeholders name declared dimensions") is written once
and reported with the camelCase field at fault. Prose (template, preamble,
scenarios, levels) may span lines; names may not (`input_rules.clean_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from modeldesk.errors import ValidationError
from modeldesk.input_rules import clean_text, cut_echo, echoed
from modeldesk.runs.templates import MAX_SCENARIOS, Dimension, placeholders

MAX_PROMPT_TEXT = 20_000
MAX_DIMENSIONS = 20
MAX_LEVELS = 100
MAX_LEVEL_TEXT = 1000
_DIMENSION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _optional_text(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    return clean_text(value, field, max_length=MAX_PROMPT_TEXT, multiline=True)


def clean_rubric(value: str | None) -> str | None:
    """A definition's rubric, by the rules of prose inputs; None (no rubric) when blank."""
    return _optional_text(value, "rubric")


def _dimension(raw: Any, index: int) -> Dimension:
    field = f"dimensions[{index}]"
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{field} must be an object with name and levels.", field=field)
    name = clean_text(str(raw.get("name") or ""), f"{field}.name", max_length=64)
    if not _DIMENSION_NAME.match(name):
        raise ValidationError(
            f"{field}.name {echoed(name)} must be letters, digits and underscores, "
            "starting with a letter or underscore.",
            field=f"{field}.name",
        )
    levels_raw = raw.get("levels") or []
    if isinstance(levels_raw, str) or not isinstance(levels_raw, Sequence) or not levels_raw:
        raise ValidationError(
            f"Dimension {echoed(name)} needs a list of levels.", field=f"{field}.levels"
        )
    if len(levels_raw) > MAX_LEVELS:
        raise ValidationError(
            f"Dimension {echoed(name)} has {len(levels_raw)} levels; "
            f"at most {MAX_LEVELS} are allowed.",
            field=f"{field}.levels",
        )
    levels = [
        clean_text(str(level), f"{field}.levels[{i}]", max_length=MAX_LEVEL_TEXT, multiline=True)
        for i, level in enumerate(levels_raw)
    ]
    if len(set(levels)) != len(levels):
        raise ValidationError(
            f"Dimension {echoed(name)} lists a level twice.", field=f"{field}.levels"
        )
    return Dimension(name=name, levels=tuple(levels))


def _dimensions(raw: Sequence[Any] | None, template: str) -> tuple[Dimension, ...]:
    raw = raw or []
    if len(raw) > MAX_DIMENSIONS:
        raise ValidationError(
            f"At most {MAX_DIMENSIONS} dimensions are allowed (got {len(raw)}).",
            field="dimensions",
        )
    dimensions = tuple(_dimension(item, i) for i, item in enumerate(raw))
    names = [d.name for d in dimensions]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(
            f"Dimension names must be unique; repeated: {', '.join(duplicates)}.",
            field="dimensions",
        )
    used = placeholders(template)
    undeclared = [name for name in used if name not in names]
    if undeclared:
        raise ValidationError(
            "The template uses placeholders that name no dimension: "
            + ", ".join(f"{{{{{name}}}}}" for name in undeclared)
            + ". Declare them as dimensions or fix the template.",
            field="template",
            details={"undeclared": undeclared},
        )
    # An unused dimension would only multiply identical scenarios.
    unused = [name for name in names if name not in used]
    if unused:
        raise ValidationError(
            f"Dimensions not used in the template: {', '.join(unused)}. "
            "Add a {{name}} placeholder for each, or remove them.",
            field="dimensions",
            details={"unused": unused},
        )
    return dimensions


def clean_scenarios(raw: Sequence[Any] | None, field: str = "scenarios") -> tuple[str, ...]:
    """A bounded list of non-empty scenario texts, duplicates dropped in order."""
    raw = raw or []
    if len(raw) > MAX_SCENARIOS:
        raise ValidationError(
            f"At most {MAX_SCENARIOS} scenarios are allowed (got {len(raw)}).", field=field
        )
    texts = [
        clean_text(str(item), f"{field}[{i}]", max_length=MAX_PROMPT_TEXT, multiline=True)
        for i, item in enumerate(raw)
    ]
    return tuple(dict.fromkeys(texts))


@dataclass(frozen=True)
class DefinitionCreate:
    name: str
    preamble: str | None
    template: str
    dimensions: tuple[Dimension, ...]
    scenarios: tuple[str, ...]
    rubric: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        name: str,
        template: str,
        preamble: str | None = None,
        dimensions: Sequence[Any] | None = None,
        scenarios: Sequence[Any] | None = None,
        rubric: str | None = None,
    ) -> DefinitionCreate:
        clean_template = clean_text(
            template or "", "template", max_length=MAX_PROMPT_TEXT, multiline=True
        )
        return cls(
            name=clean_text(name or "", "name"),
            preamble=_optional_text(preamble, "preamble"),
            template=clean_template,
            dimensions=_dimensions(dimensions, clean_template),
            scenarios=clean_scenarios(scenarios),
            rubric=clean_rubric(rubric),
        )


def clean_sample_percentage(value: Any) -> Decimal:
    """A percentage in (0, 100]; None means every scenario."""
    if value is None or value == "":
        return Decimal(100)
    try:
        percentage = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError(
            f"samplePercentage must be a number, got {echoed(value)}.", field="samplePercentage"
        ) from exc
    if not percentage.is_finite() or not Decimal(0) < percentage <= Decimal(100):
        raise ValidationError(
            f"samplePercentage must be more than 0 and at most 100 (got {cut_echo(str(value))}).",
            field="samplePercentage",
        )
    return percentage

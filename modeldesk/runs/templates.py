"""Prompt templates: `{{dimension}}` placeholders and their combinatorial expansion.

Rendering is a plain substitution (no expression language), so a template can
never run code or reach data beyond the levels it was given.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from modeldesk.errors import ValidationError

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# A run sends every scenario to every target model; beyond this a definition is
# almost certainly a mistake (one more dimension than meant), and a run of it
# would be costly. Explicit and LLM-generated lists share the bound.
MAX_SCENARIOS = 20_000


@dataclass(frozen=True)
class Dimension:
    name: str
    levels: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "levels": list(self.levels)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Dimension:
        levels = data.get("levels")
        return cls(
            name=str(data["name"]),
            levels=tuple(str(level) for level in levels) if isinstance(levels, list) else (),
        )


def placeholders(template: str) -> list[str]:
    """The placeholder names in order of first appearance."""
    return list(dict.fromkeys(match.group(1) for match in PLACEHOLDER.finditer(template)))


def render(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def combination_count(dimensions: Sequence[Dimension]) -> int:
    return math.prod(len(d.levels) for d in dimensions) if dimensions else 0


def expand_combinations(template: str, dimensions: Sequence[Dimension]) -> list[str]:
    """One scenario per combination of levels, in a stable order (first dimension slowest).

    The count is checked before anything is generated, so an oversized product
    fails at once instead of building a huge list first.
    """
    if not dimensions:
        raise ValidationError(
            "Combinatorial expansion needs at least one dimension with levels.",
            field="dimensions",
        )
    count = combination_count(dimensions)
    if count > MAX_SCENARIOS:
        sizes = " x ".join(f"{d.name} ({len(d.levels)})" for d in dimensions)
        raise ValidationError(
            f"The dimensions give {count} combinations ({sizes}); at most {MAX_SCENARIOS} "
            "scenarios are allowed. Remove levels or split the definition.",
            field="dimensions",
            details={"combinations": count, "maximum": MAX_SCENARIOS},
        )
    names = [d.name for d in dimensions]
    return [
        render(template, dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*(d.levels for d in dimensions))
    ]

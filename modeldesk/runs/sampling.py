"""Deterministic sampling of a definition's scenarios.

Each scenario gets a stable pseudo-random rank from a hash of its id, and a
sample takes the lowest ranks. The same percentage always picks the same
scenarios, and a larger percentage picks a superset of a smaller one, so runs
of one definition at different sizes stay comparable.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from modeldesk.db.run_tables import Scenario

S = TypeVar("S", bound=Scenario)


def _rank(scenario: Scenario) -> bytes:
    return hashlib.sha256(f"scenario:{scenario.id}".encode()).digest()


def sample_size(count: int, percentage: Decimal) -> int:
    """At least one scenario of a non-empty definition, rounding up."""
    if count == 0:
        return 0
    return max(1, min(count, math.ceil(count * percentage / 100)))


def sample_scenarios(scenarios: Sequence[S], percentage: Decimal) -> list[S]:
    """The sampled scenarios, in their definition order."""
    size = sample_size(len(scenarios), percentage)
    if size == len(scenarios):
        return list(scenarios)
    chosen = {s.id for s in sorted(scenarios, key=_rank)[:size]}
    return [s for s in scenarios if s.id in chosen]

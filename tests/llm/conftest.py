"""Fixtures for the llm tests: one simulator for the session, reset before each test."""

from __future__ import annotations

import pytest
from llm_targets import API_KEY, TargetFactory

from modeldesk.testing import Simulator


@pytest.fixture
def make_target(sim: Simulator) -> TargetFactory:
    return TargetFactory(sim)


@pytest.fixture
def api_key() -> str:
    return API_KEY

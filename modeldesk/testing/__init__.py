"""Test doubles shared by the test suites and the benchmarks (the provider simulator)."""

from modeldesk.testing.simulator import Simulator, SimulatorControl
from modeldesk.testing.simulator_state import ModelConfig, Outcome, OutcomeKind, fingerprint

__all__ = ["ModelConfig", "Outcome", "OutcomeKind", "Simulator", "SimulatorControl", "fingerprint"]

"""modeldesk: a catalogue of LLM providers and models, and probe runs under global limits."""

__version__ = "0.1.0"

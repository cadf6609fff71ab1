"""A small genai-prices data file (its data.json format) for the price proposal tests.

It lives at the top of tests/ (on the path through tests/conftest.py) because the
catalogue, API and web tests all use it.

Written by the tests and named by MODELDESK_PRICES_FILE, so what the review must
find is known exactly, whatever the bundled data of the pinned package says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _model(
    model_id: str, prices: Any, name: str | None = None, match: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": model_id,
        "name": name or model_id,
        "match": match or {"equals": model_id},
        "prices": prices,
    }


def _tiered(base: float, above: float, start: int = 200_000) -> dict[str, Any]:
    return {"base": base, "tiers": [{"start": start, "price": above}]}


def _provider(provider_id: str, *models: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": provider_id,
        "name": provider_id,
        "api_pattern": provider_id,
        "models": list(models),
    }


PROVIDERS: list[dict[str, Any]] = [
    _provider(
        "openai",
        # The seed has no cached price: one part differs.
        _model("gpt-5-mini", {"input_mtok": 0.25, "output_mtok": 2, "cache_read_mtok": 0.025}),
        # The seed's prices exactly.
        _model("gpt-5.1", {"input_mtok": 1.25, "output_mtok": 10}),
    ),
    _provider(
        "anthropic",
        _model(
            "claude-sonnet-4-5",
            {
                "input_mtok": _tiered(3, 6),
                "output_mtok": _tiered(15, 22.5),
                "cache_read_mtok": _tiered(0.3, 0.6),
                "cache_write_mtok": _tiered(3.75, 7.5),
                # 1-hour cache writes are never reported by our calls: no effect on a bill here.
                "cache_write_1h_mtok": _tiered(6, 12),
            },
            name="Claude Sonnet 4.5",
            # Dated ids (claude-sonnet-4-5-20250929) are the same model, as in the real data.
            match={"starts_with": "claude-sonnet-4-5"},
        ),
        # Two tiers cannot be held by one price version.
        _model(
            "claude-haiku-4-5",
            {
                "input_mtok": {
                    "base": 1,
                    "tiers": [{"start": 100_000, "price": 2}, {"start": 500_000, "price": 3}],
                },
                "output_mtok": 5,
            },
        ),
    ),
    _provider("x-ai", _model("grok-4-0709", {"input_mtok": 3, "output_mtok": 15})),
    _provider(
        "google",
        # A fee per request is charged on every call: not representable here.
        _model("gemini-2.5-pro", {"input_mtok": 1.25, "output_mtok": 10, "requests_kcount": 1}),
    ),
    _provider(
        "deepseek",
        _model(
            "deepseek-chat",
            [
                {"prices": {"input_mtok": 0.14, "output_mtok": 0.21}},
                {
                    "constraint": {"start_time": "00:30:00Z", "end_time": "16:30:00Z"},
                    "prices": {"input_mtok": 0.3, "output_mtok": 0.45},
                },
            ],
        ),
    ),
]

DIFFERING = {"openai/gpt-5-mini", "anthropic/claude-sonnet-4-5", "deepseek/deepseek-chat"}
MATCHING = {"openai/gpt-5.1", "xai/grok-4-0709"}
NOT_COMPARED = {
    "anthropic/claude-haiku-4-5",
    "xai/grok-4-1-fast-reasoning",
    "google/gemini-2.5-pro",
    "deepseek/deepseek-reasoner",
    "mistral/mistral-large-2512",
}


def write_prices_file(path: Path, providers: list[dict[str, Any]] | None = None) -> Path:
    path.write_text(json.dumps(PROVIDERS if providers is None else providers))
    return path

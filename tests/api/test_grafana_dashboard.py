"""docs/grafana-dashboard.json: a Grafana dashboard on the metric names `/metrics` serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
# SPEC 9.4's names as a query uses them: counters with _total, the histogram's buckets.
SERVED = {
    "modeldesk_provider_calls_total",
    "modeldesk_provider_call_seconds_bucket",
    "modeldesk_provider_in_flight",
    "modeldesk_provider_limit",
    "modeldesk_provider_held_seconds",
    "modeldesk_probes_queued",
    "modeldesk_cost_usd_total",
    "modeldesk_runs",
}


def _panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    panels: list[dict[str, Any]] = dashboard["panels"]
    return panels


def test_every_query_uses_served_names_and_every_name_is_shown() -> None:
    used = set()
    for panel in _panels():
        for target in panel.get("targets", []):
            names = set(re.findall(r"modeldesk_[a-z_]+", target["expr"]))
            assert names, target
            assert names <= SERVED, names - SERVED
            used |= names
    assert used == SERVED


def test_panels_have_unique_ids_and_fit_the_grid() -> None:
    panels = _panels()
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"

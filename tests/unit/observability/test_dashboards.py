"""The chart's Grafana dashboards: generated, current, well-formed, and asking only for metrics that exist."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from videojob_devenv import chartfiles
from videojob_devenv.dashboards import DASHBOARDS
from videojob_devenv.grafana import Dashboard, GridPos, dashboard, series

GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h"}


def exprs(board: Dashboard) -> list[str]:
    return [target.expr for panel in board.panels for target in panel.targets]


def as_prometheus_sees_it(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def test_the_dashboards_in_the_chart_are_the_generated_ones() -> None:
    assert chartfiles.stale() == [], "run hack/gen-observability"


def test_the_check_command_names_a_hand_edited_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "dashboards"
    copy.mkdir()
    for path in chartfiles.DASHBOARD_DIR.glob("*.json"):
        (copy / path.name).write_text(path.read_text())
    edited = json.loads((copy / "overview.json").read_text())
    edited["title"] = "edited by hand"
    (copy / "overview.json").write_text(json.dumps(edited))
    generated = {
        copy / path.name if path.parent == chartfiles.DASHBOARD_DIR else path: text
        for path, text in chartfiles.generated().items()
    }
    monkeypatch.setattr(chartfiles, "DASHBOARD_DIR", copy)
    monkeypatch.setattr(chartfiles, "generated", lambda: generated)
    assert chartfiles.main(["--check"]) == 1
    assert "overview.json" in capsys.readouterr().err


def test_each_dashboard_file_is_valid_against_the_model_of_what_grafana_requires() -> None:
    for path in sorted(chartfiles.DASHBOARD_DIR.glob("*.json")):
        board = Dashboard.model_validate(json.loads(path.read_text()))
        assert board.panels and board.schemaVersion == 39, path


def test_the_model_refuses_what_grafana_would_not_load() -> None:
    with pytest.raises(ValidationError, match="24 columns"):
        GridPos(h=4, w=12, x=18, y=0)
    with pytest.raises(ValidationError, match="uid"):
        dashboard("a" * 41, "X", "", [[series("a", "", "short", ("up", "up"))]])
    with pytest.raises(ValidationError, match="extra"):
        Dashboard.model_validate(
            {"uid": "x", "title": "X", "description": "", "tags": [], "panels": [], "colour": "red"}
        )


def test_the_four_dashboards_each_cover_their_subject() -> None:
    titles = {name: {panel.title for panel in build().panels} for name, build in DASHBOARDS.items()}
    assert {"Videos per hour", "Success ratio", "Time to video", "Queue", "Queue wait"} <= titles["overview"]
    assert {
        "Stage durations (median)",
        "CPU per video second",
        "Scene cache hit ratio",
        "Failures by reason",
        "Peak memory per render",
        "CPU per render",
        "Attempts retried bigger",
    } <= titles["renders"]
    assert {"Requests by route", "Server errors", "Latency", "Refused: 429s, rate limit and quota"} <= titles["gateway"]
    assert {"Reconciles", "Reconcile errors", "Status lag", "Memory", "Restarts in the time range"} <= titles[
        "operator"
    ]


def test_every_query_parses_as_promql(tmp_path: Path) -> None:
    # promtool has no "check this expression"; a recording rule per query is checked the same way.
    rules = [
        {"record": f"panel:{name}:{i}", "expr": as_prometheus_sees_it(expr)}
        for name, build in DASHBOARDS.items()
        for i, expr in enumerate(exprs(build()))
    ]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}, width=1000))
    checked = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_metric_a_panel_asks_for_is_exported_by_the_operator_or_the_gateway(exported_metrics: set[str]) -> None:
    asked = {
        name
        for build in DASHBOARDS.values()
        for expr in exprs(build())
        for name in re.findall(r"\b((?:videojob|process)_[a-z_]+|up)\b", expr)
    }
    assert asked - exported_metrics == set()

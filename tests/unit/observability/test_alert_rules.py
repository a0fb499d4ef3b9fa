"""The chart's alerting rules, checked and unit-tested by the real promtool.

Each alert has a case where it must fire and one where it must stay quiet; a new alert
without both fails :func:`test_every_alert_has_a_firing_and_a_quiet_case`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from videojob_devenv.alerts import ALERTS
from videojob_devenv.chartfiles import RULES_FILE

OP = 'job="videojob-operator"'
GW = 'job="videojob-gateway"'


def s(series: str, values: str) -> dict[str, str]:
    return {"series": series, "values": values}


# alert -> (eval time, input series where it fires, input series where it must not)
CASES: dict[str, tuple[str, list[dict[str, str]], list[dict[str, str]]]] = {
    "VideoJobOperatorDown": (
        "10m",
        [s(f'up{{{OP}, instance="10.0.0.5:8080"}}', "1 0x20")],
        [s(f'up{{{OP}, instance="10.0.0.5:8080"}}', "1x20")],
    ),
    "VideoJobOperatorNotReconciling": (
        "20m",
        [
            s(f'videojob_videojobs{{{OP}, phase="Rendering"}}', "1x30"),
            s(f'videojob_operator_reconciles_total{{{OP}, outcome="ok"}}', "10x30"),
        ],
        [
            s(f'videojob_videojobs{{{OP}, phase="Rendering"}}', "1x30"),
            s(f'videojob_operator_reconciles_total{{{OP}, outcome="ok"}}', "10+5x30"),
        ],
    ),
    "VideoJobReconcileErrorsHigh": (
        "25m",
        [
            s(f'videojob_operator_reconciles_total{{{OP}, outcome="ok"}}', "0+10x30"),
            s(f'videojob_operator_reconciles_total{{{OP}, outcome="error"}}', "0+5x30"),
        ],
        [
            s(f'videojob_operator_reconciles_total{{{OP}, outcome="ok"}}', "0+10x30"),
            s(f'videojob_operator_reconciles_total{{{OP}, outcome="error"}}', "0+0x30"),
        ],
    ),
    "VideoJobFailureRatioHigh": (
        "30m",
        [
            s(f'videojob_failures_total{{{OP}, reason="OOMKilled"}}', "0+1x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Failed"}}', "0+1x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Succeeded"}}', "0+1x60"),
        ],
        # As many failures, but every one the user's own (a spec the renderer refused): nobody is paged.
        [
            s(f'videojob_failures_total{{{OP}, reason="InvalidStoryboard"}}', "0+1x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Failed"}}', "0+1x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Succeeded"}}', "0+1x60"),
        ],
    ),
    "VideoJobRendersOutOfMemory": (
        "40m",
        [
            s(f'videojob_attempt_retries_total{{{OP}, reason="OOMKilled", quality="medium"}}', "0+1x60"),
            s(f'videojob_attempt_retries_total{{{OP}, reason="ScratchFull", quality="medium"}}', "0x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Succeeded"}}', "0+2x60"),
        ],
        # As many OOM retries, but among five times the renders: one in ten is the cost of tight presets.
        [
            s(f'videojob_attempt_retries_total{{{OP}, reason="OOMKilled", quality="medium"}}', "0+1x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Succeeded"}}', "0+10x60"),
        ],
    ),
    "VideoJobRendersOutOfScratch": (
        "40m",
        [
            s(f'videojob_attempt_retries_total{{{OP}, reason="ScratchFull", quality="high"}}', "0+1x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Succeeded"}}', "0+2x60"),
        ],
        # As many retries, but for memory: the memory alert's, not this one's (its advice is another preset).
        [
            s(f'videojob_attempt_retries_total{{{OP}, reason="OOMKilled", quality="high"}}', "0+1x60"),
            s(f'videojob_attempt_retries_total{{{OP}, reason="ScratchFull", quality="high"}}', "0x60"),
            s(f'videojob_phase_transitions_total{{{OP}, phase="Succeeded"}}', "0+2x60"),
        ],
    ),
    "VideoJobsWaitingTooLong": (
        "45m",
        [s(f"videojob_oldest_waiting_seconds{{{OP}}}", "0+60x60")],
        [s(f"videojob_oldest_waiting_seconds{{{OP}}}", "0+60x20 0x40")],
    ),
    "VideoJobRenderStalled": (
        "30m",
        [s(f"videojob_longest_without_progress_seconds{{{OP}}}", "0+60x40")],
        [s(f"videojob_longest_without_progress_seconds{{{OP}}}", "30x40")],
    ),
    "VideoJobUploadsFailing": (
        "5m",
        [s(f'videojob_failures_total{{{OP}, reason="UploadFailed"}}', "0 0 0 1x10")],
        [
            s(f'videojob_failures_total{{{OP}, reason="UploadFailed"}}', "0x10"),
            s(f'videojob_failures_total{{{OP}, reason="OOMKilled"}}', "0 0 0 1x10"),
        ],
    ),
    "VideoJobGatewayDown": (
        "10m",
        [s(f'up{{{GW}, instance="10.0.0.6:8000"}}', "1 0x20")],
        [s(f'up{{{GW}, instance="10.0.0.6:8000"}}', "1x20")],
    ),
    "VideoJobGateway5xxHigh": (
        "15m",
        [
            s(f'videojob_gateway_requests_total{{{GW}, route="/v1/videos", status="200"}}', "0+100x30"),
            s(f'videojob_gateway_requests_total{{{GW}, route="/v1/videos", status="500"}}', "0+10x30"),
        ],
        [
            s(f'videojob_gateway_requests_total{{{GW}, route="/v1/videos", status="200"}}', "0+100x30"),
            s(f'videojob_gateway_requests_total{{{GW}, route="/v1/videos", status="500"}}', "0+1x30"),
        ],
    ),
    "VideoJobGatewayLatencyHigh": (
        "20m",
        [
            s(f'videojob_gateway_request_seconds_bucket{{{GW}, le="{le}"}}', values)
            for le, values in (("0.5", "0+10x30"), ("1", "0+10x30"), ("2.5", "0+100x30"), ("+Inf", "0+100x30"))
        ],
        [
            s(f'videojob_gateway_request_seconds_bucket{{{GW}, le="{le}"}}', "0+100x30")
            for le in ("0.5", "1", "2.5", "+Inf")
        ],
    ),
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True)


def test_the_rules_file_passes_promtool_check_rules() -> None:
    checked = promtool("check", "rules", str(RULES_FILE))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    assert sorted(CASES) == sorted(ALERTS)


def test_every_alert_says_what_broke_and_what_to_do() -> None:
    for alert in ALERTS.values():
        assert alert.summary.endswith(".") and len(alert.description) > 80, alert.name
        assert alert.severity in ("critical", "warning"), alert.name


def _unit_test(alert: str, series: list[dict[str, str]], eval_time: str, fires: bool) -> dict[str, Any]:
    rule = ALERTS[alert]
    expected = (
        [
            {
                "exp_labels": {"severity": rule.severity} | rule.labels,
                "exp_annotations": {"summary": rule.summary, "description": rule.description},
            }
        ]
        if fires
        else []
    )
    return {
        "name": f"{alert} {'fires' if fires else 'stays quiet'}",
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{"eval_time": eval_time, "alertname": alert, "exp_alerts": expected}],
    }


@pytest.mark.parametrize("alert", sorted(CASES))
def test_alert_fires_when_it_should_and_stays_quiet_otherwise(alert: str, tmp_path: Path) -> None:
    eval_time, firing, quiet = CASES[alert]
    tests = {
        "rule_files": [str(RULES_FILE)],
        "evaluation_interval": "1m",
        "tests": [_unit_test(alert, firing, eval_time, True), _unit_test(alert, quiet, eval_time, False)],
    }
    path = tmp_path / "tests.yaml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False, width=1000))
    result = promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_metric_an_alert_asks_for_is_exported_by_the_operator_or_the_gateway(exported_metrics: set[str]) -> None:
    asked = {name for alert in ALERTS.values() for name in re.findall(r"\b(videojob_[a-z_]+|up)\b", alert.expr)}
    assert asked - exported_metrics == set()

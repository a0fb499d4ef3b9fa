"""The scrape config the dev environment's Prometheus uses is the one the chart's ServiceMonitors imply."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from videojob_devenv.prometheus import GATEWAY, OPERATOR, PrometheusServer, ScrapeJob, scrape_config


def test_each_job_is_named_for_its_service_and_scrapes_metrics_on_the_named_port(tmp_path: Path) -> None:
    config = scrape_config({OPERATOR: ["127.0.0.1:8080"], GATEWAY: ["127.0.0.1:8000"]}, interval="15s")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"videojob-operator", "videojob-gateway"}
    operator = jobs["videojob-operator"]
    assert (operator["metrics_path"], operator["scrape_interval"]) == ("/metrics", "15s")
    assert operator["static_configs"] == [{"targets": ["127.0.0.1:8080"], "labels": {"endpoint": "metrics"}}]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    checked = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_job_the_alerts_and_dashboards_do_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="add them to SCRAPE_JOBS"):
        scrape_config({ScrapeJob("videojob-renderer", "metrics"): ["127.0.0.1:9000"]})


def test_the_demo_line_names_the_url_and_a_query_to_paste() -> None:
    server = PrometheusServer(Path("/nonexistent"), {OPERATOR: ["127.0.0.1:8080"]}, port=9091)
    assert server.try_this() == (
        "Prometheus: http://127.0.0.1:9091 (scraping videojob-operator)\n"
        "  try: curl -s 'http://127.0.0.1:9091/api/v1/query?query=sum+by+%28phase%29+%28videojob_videojobs%29'"
    )

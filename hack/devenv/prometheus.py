"""A real Prometheus on loopback (Debian's ``prometheus`` package), scraping what the chart's ServiceMonitors would.

Each start gets a free port, its own config file and data directory under the state
directory, and never the package's system service. The scrape jobs are written from
:data:`SCRAPE_JOBS`, the one description of what videojob exposes to Prometheus: the
Service (its name becomes the ``job`` label, as the Prometheus Operator sets it), the
port's name and the path. Alerts and dashboards select on these ``job`` labels.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from videojob_devenv.processes import Component, StartError, free_port, https_ok, wait_for

START_TIMEOUT = 60.0
DEFAULT_INTERVAL = "30s"  # the Prometheus Operator's default for a ServiceMonitor endpoint
TRY_QUERY = "sum by (phase) (videojob_videojobs)"  # what try_this() suggests


@dataclasses.dataclass(frozen=True)
class ScrapeJob:
    """One Service port a ServiceMonitor selects; ``job`` is the Service's name."""

    job: str
    port_name: str
    path: str = "/metrics"


OPERATOR = ScrapeJob("videojob-operator", "metrics")
GATEWAY = ScrapeJob("videojob-gateway", "http")
SCRAPE_JOBS = (OPERATOR, GATEWAY)


def scrape_config(
    targets: Mapping[ScrapeJob, Sequence[str]], interval: str = DEFAULT_INTERVAL, rule_files: Sequence[Path] = ()
) -> dict[str, Any]:
    """prometheus.yml for ``{job: ["127.0.0.1:port", ...]}``, labelled the way a ServiceMonitor labels targets,
    evaluating ``rule_files`` (the chart's alerting rules) at the scrape interval."""
    unknown = [job.job for job in targets if job not in SCRAPE_JOBS]
    if unknown:
        raise ValueError(f"unknown scrape job(s) {unknown}: add them to SCRAPE_JOBS so alerts and dashboards know them")
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {
                "job_name": job.job,
                "metrics_path": job.path,
                "scrape_interval": interval,
                "static_configs": [{"targets": list(addresses), "labels": {"endpoint": job.port_name}}],
            }
            for job, addresses in targets.items()
        ],
    }


def require_binary(name: str = "prometheus") -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        raise StartError(
            f"{name} is not installed: it comes from Debian's prometheus package "
            "(hack/apt-packages.txt), which hack/bootstrap installs"
        )
    return found


@dataclasses.dataclass
class PrometheusServer:
    state_dir: Path
    targets: Mapping[ScrapeJob, Sequence[str]] = dataclasses.field(default_factory=dict)
    interval: str = DEFAULT_INTERVAL
    rule_files: Sequence[Path] = ()
    port: int | None = None
    tie_to_parent: bool = True
    component: Component | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        binary = require_binary()
        began = time.monotonic()
        self.port = self.port or free_port()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        config = self.state_dir / "prometheus.yml"
        # JSON is YAML, so prometheus.yml is written with the standard library.
        config.write_text(json.dumps(scrape_config(self.targets, self.interval, self.rule_files), indent=2))
        self.component = Component.launch(
            "prometheus",
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.state_dir / 'prometheus-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--storage.tsdb.retention.time=1d",
            ],
            self.state_dir / "logs",
            tie_to_parent=self.tie_to_parent,
        )
        try:
            self.component.wait_ready(lambda: https_ok(f"{self.url}/-/ready"), START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return time.monotonic() - began

    def reconfigure(self, targets: Mapping[ScrapeJob, Sequence[str]], rule_files: Sequence[Path] = ()) -> None:
        """Scrape these targets and evaluate these rules from now on (rewrites the config and asks Prometheus
        to reload it)."""
        self.targets, self.rule_files = targets, rule_files
        config = scrape_config(targets, self.interval, rule_files)
        (self.state_dir / "prometheus.yml").write_text(json.dumps(config, indent=2))
        try:
            urllib.request.urlopen(urllib.request.Request(f"{self.url}/-/reload", method="POST"), timeout=10).close()
        except urllib.error.HTTPError as error:
            why = error.read().decode(errors="replace").strip()
            raise StartError(f"Prometheus refused the new config: {why}") from None

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of a successful HTTP API answer; an error names the API's own message."""
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            answer = json.load(error)
        if answer.get("status") != "success":
            raise ValueError(f"Prometheus refused {path} {params}: {answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result (vector samples, or a one-element list for a scalar)."""
        data = self.api("query", query=expr)
        if data["resultType"] in ("vector", "matrix"):
            return data["result"]
        return [{"metric": {}, "value": data["result"]}]

    def firing(self) -> set[str]:
        """The names of the alerts firing now."""
        return {alert["labels"]["alertname"] for alert in self.api("alerts")["alerts"] if alert["state"] == "firing"}

    def wait_scraped(self, job: ScrapeJob, timeout: float = 60.0) -> None:
        """Until every target of ``job`` has been scraped successfully at least once."""

        def healthy() -> bool:
            active = [t for t in self.api("targets")["activeTargets"] if t["labels"].get("job") == job.job]
            return bool(active) and all(t["health"] == "up" for t in active)

        wait_for(healthy, timeout, f"Prometheus to scrape {job.job}", interval=0.5)

    def try_this(self) -> str:
        """Two lines for a person: where Prometheus is, and one query to paste into a shell."""
        query = urllib.parse.urlencode({"query": TRY_QUERY})
        return (
            f"Prometheus: {self.url} (scraping {', '.join(job.job for job in self.targets)})\n"
            f"  try: curl -s '{self.url}/api/v1/query?{query}'"
        )

    def stop(self) -> None:
        if self.component is not None:
            self.component.stop()
            self.component = None

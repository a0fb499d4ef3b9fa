"""ServiceMonitors, the PrometheusRule and the dashboard ConfigMaps the chart ships.

The local API server has no Prometheus Operator CRDs, so the integration test cannot apply
ServiceMonitor and PrometheusRule objects; this file checks their structure instead: the
fields the Prometheus Operator reads, and that they select what the alerts and dashboards expect.
"""

from __future__ import annotations

import json

import yaml

from support.chart import CHART_DIR, EVERYTHING, find, render
from videojob_devenv.alerts import ALERTS
from videojob_devenv.prometheus import SCRAPE_JOBS

DASHBOARDS = sorted((CHART_DIR / "dashboards").glob("*.json"))


def test_service_monitors_give_each_component_the_job_label_the_alerts_select() -> None:
    objects = render((*EVERYTHING, "fullnameOverride=acme"))  # the job label must not follow the release name
    for job in SCRAPE_JOBS:
        component = job.job.removeprefix("videojob-")
        monitor = find(objects, "ServiceMonitor", f"acme-{component}")
        service = find(objects, "Service", f"acme-{component}")
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        spec = monitor["spec"]
        assert service["metadata"]["labels"][spec["jobLabel"]] == job.job
        assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert spec["namespaceSelector"] == {"matchNames": ["videojob-system"]}
        assert spec["endpoints"] == [{"port": job.port_name, "path": job.path, "interval": "30s"}]
        assert job.port_name in [port["name"] for port in service["spec"]["ports"]]


def test_prometheus_rule_carries_every_alert_of_the_rules_file() -> None:
    rule = find(render(EVERYTHING), "PrometheusRule", "videojob")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load((CHART_DIR / "rules" / "videojob.rules.yaml").read_text())
    shipped = {r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]}
    assert shipped == set(ALERTS)
    assert all(r["expr"] and r["labels"]["severity"] for group in rule["spec"]["groups"] for r in group["rules"])


def test_every_dashboard_file_has_a_configmap_with_the_sidecar_label_and_folder() -> None:
    assert DASHBOARDS, "no dashboards in charts/videojob/dashboards/: run hack/gen-observability"
    configmaps = [o for o in render(EVERYTHING) if o["kind"] == "ConfigMap"]
    by_file = {key: cm for cm in configmaps for key in cm["data"]}
    assert sorted(by_file) == [path.name for path in DASHBOARDS]
    for path in DASHBOARDS:
        configmap = by_file[path.name]
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["metadata"]["annotations"] == {"grafana_folder": "videojob"}
        assert json.loads(configmap["data"][path.name]) == json.loads(path.read_text())


def test_the_sidecar_label_folder_and_namespace_are_configurable() -> None:
    sets = (
        *EVERYTHING,
        "dashboards.label=grafana_dash",
        "dashboards.labelValue=yes",
        "dashboards.folderAnnotation=k8s-sidecar-target-directory",
        "dashboards.folder=/tmp/dashboards/videojob",
        "dashboards.namespace=monitoring",
    )
    for configmap in [o for o in render(sets) if o["kind"] == "ConfigMap"]:
        assert configmap["metadata"]["labels"]["grafana_dash"] == "yes"
        assert configmap["metadata"]["annotations"] == {"k8s-sidecar-target-directory": "/tmp/dashboards/videojob"}
        assert configmap["metadata"]["namespace"] == "monitoring"


def test_monitoring_objects_are_off_by_default() -> None:
    kinds = {o["kind"] for o in render()}
    assert kinds.isdisjoint({"ServiceMonitor", "PrometheusRule", "ConfigMap"})

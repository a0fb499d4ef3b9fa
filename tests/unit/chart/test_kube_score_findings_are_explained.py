"""kube-score (built through the Go module proxy; kube-linter's module host is refused there) on the chart.

Every finding below CRITICAL/WARNING's "ok" grade is listed here with why the chart does it
on purpose. The test fails on a finding nobody explained, and on an explanation whose
finding is gone (so the list never goes stale). Rendered with every optional part on.
"""

from __future__ import annotations

import json
import subprocess

from support.chart import EVERYTHING, helm, template_args
from videojob_devenv.tools import require_binary

PULL_POLICY = "images are pinned by tag (a content hash locally); IfNotPresent lets nodes without a registry run them"
NO_CPU_LIMIT = "CPU is requested, not limited: a CFS-throttled operator or gateway answers late; memory is limited"
SCRATCH = "the root filesystem is read-only; the only writable place is an emptyDir with a sizeLimit"
SINGLETON = "one replica by design (kopf runs standalone, restarts are safe; the chart's MinIO is for trying it out)"

EXPLAINED: dict[tuple[str, str], str] = {
    ("Deployment/videojob-operator", "container-image-pull-policy"): PULL_POLICY,
    ("Deployment/videojob-operator", "container-resources"): NO_CPU_LIMIT,
    ("Deployment/videojob-operator", "container-ephemeral-storage-request-and-limit"): SCRATCH,
    ("Deployment/videojob-operator", "pod-networkpolicy"): "it talks to the API server, whose address the chart "
    "cannot know in every cluster, and to S3; it accepts only Prometheus's scrape",
    ("Deployment/videojob-operator", "pod-probes"): "it serves no traffic, so readiness means nothing; the liveness "
    "probe calls kopf's health endpoint",
    ("Deployment/videojob-operator", "deployment-strategy"): SINGLETON,
    ("Deployment/videojob-operator", "deployment-replicas"): SINGLETON,
    ("Deployment/videojob-gateway", "container-image-pull-policy"): PULL_POLICY,
    ("Deployment/videojob-gateway", "container-resources"): NO_CPU_LIMIT,
    ("Deployment/videojob-gateway", "container-ephemeral-storage-request-and-limit"): SCRATCH,
    ("Deployment/videojob-gateway", "pod-networkpolicy"): "its ingress is confined to the http port; its egress "
    "goes to the API server and S3, whose addresses differ per cluster",
    ("Deployment/videojob-gateway", "deployment-has-host-podantiaffinity"): "placement is the platform's choice: "
    "gateway.affinity takes any anti-affinity rule",
    ("Deployment/videojob-minio", "container-image-pull-policy"): PULL_POLICY,
    ("Deployment/videojob-minio", "container-resources"): NO_CPU_LIMIT,
    ("Deployment/videojob-minio", "container-ephemeral-storage-request-and-limit"): "its data is a PVC or an emptyDir "
    "by value; minio.enabled is for trying it out",
    ("Deployment/videojob-minio", "pod-networkpolicy"): "every component and renderer Pod must reach it; the "
    "renderer's egress policy names it",
    ("Deployment/videojob-minio", "deployment-strategy"): SINGLETON,
    ("Deployment/videojob-minio", "deployment-replicas"): SINGLETON,
    ("Pod/videojob-selftest", "container-image-pull-policy"): PULL_POLICY,
    ("Pod/videojob-selftest", "container-resources"): "a helm test Pod that runs for seconds",
    ("Pod/videojob-selftest", "container-ephemeral-storage-request-and-limit"): "a helm test Pod that writes nothing",
    ("Pod/videojob-selftest", "pod-networkpolicy"): "a helm test Pod that only calls the gateway and S3",
    ("NetworkPolicy/videojob-renderer", "networkpolicy-targets-pod"): "it selects the renderer Pods the operator "
    "creates at run time, which the chart does not render",
}


def kube_score_findings() -> set[tuple[str, str]]:
    rendered = helm(*template_args(EVERYTHING)).stdout
    completed = subprocess.run(
        [str(require_binary("kube-score")), "score", "-", "--output-format", "json"],
        input=rendered,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.stdout, completed.stderr  # it exits 1 when it finds something: the JSON is what counts
    findings = set()
    for scored in json.loads(completed.stdout):
        for check in scored["checks"]:
            if not check["skipped"] and check["grade"] < 10:  # 10 is "all OK", 5 a warning, 1 critical
                findings.add((f"{scored['type_meta']['kind']}/{scored['object_meta']['name']}", check["check"]["id"]))
    return findings


def test_every_kube_score_finding_on_the_chart_is_explained_and_every_explanation_is_current() -> None:
    findings = kube_score_findings()
    assert sorted(findings - EXPLAINED.keys()) == [], "a new finding: fix it in the chart or explain it here"
    assert sorted(EXPLAINED.keys() - findings) == [], "an explained finding is gone: drop its explanation"

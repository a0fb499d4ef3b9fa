"""videojob's alerting rules, as code: the one source of charts/videojob/rules/videojob.rules.yaml.

The file is a plain Prometheus rule file (``groups:``), so promtool checks and tests it
as is, and the chart's PrometheusRule carries the same groups as its ``spec``. Every
alert says what broke in its summary and what to do in its description; severity is
``critical`` when videos stop arriving for everyone, ``warning`` otherwise.
Regenerate with ``hack/gen-observability``; a test fails when the file is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from videojob_devenv.prometheus import GATEWAY, OPERATOR

OP = f'job="{OPERATOR.job}"'
GW = f'job="{GATEWAY.job}"'
# Failures caused by what the user asked for (the operator's USER_ERROR_REASONS); they page nobody.
USER_ERRORS = "InvalidSpec|InvalidStoryboard"


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    summary: str
    description: str
    severity: str = "warning"
    for_: str = "5m"
    labels: dict[str, str] = field(default_factory=dict)

    def rule(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity} | self.labels,
            "annotations": {"summary": self.summary, "description": self.description},
        }


OPERATOR_ALERTS = (
    Alert(
        "VideoJobOperatorDown",
        f"absent(up{{{OP}}} == 1)",
        "The videojob operator is down or Prometheus cannot scrape it.",
        "No VideoJob is admitted, rendered or finished while it is down. Check the operator Deployment "
        "(`kubectl -n videojob-system get pods,events`), its logs (`kubectl -n videojob-system logs "
        "deploy/videojob-operator`) "
        "and that its Service selects the Pod on the port named metrics.",
        severity="critical",
    ),
    Alert(
        "VideoJobOperatorNotReconciling",
        f'sum(videojob_videojobs{{{OP}, phase!~"Succeeded|Failed"}}) > 0 '
        f"and sum(increase(videojob_operator_reconciles_total{{{OP}}}[10m])) == 0",
        "The videojob operator is running but has not reconciled any VideoJob for 10 minutes.",
        "VideoJobs are waiting, yet the operator resyncs every minute and reconciled none: its watches or workers "
        "are stuck. "
        "Read its logs for API errors or timeouts, check its RBAC (`kubectl auth can-i --as=system:serviceaccount:"
        "videojob-system:videojob-operator list videojobs -A`), then restart it (`kubectl -n videojob-system rollout "
        "restart "
        "deploy/videojob-operator`); restarts are safe.",
        severity="critical",
    ),
    Alert(
        "VideoJobReconcileErrorsHigh",
        f'sum(rate(videojob_operator_reconciles_total{{{OP}, outcome="error"}}[10m])) '
        f"/ sum(rate(videojob_operator_reconciles_total{{{OP}}}[10m])) > 0.1",
        "More than 10% of the operator's reconciles fail.",
        "Failed reconciles are retried with backoff, so VideoJobs slow down or stall. The operator's warnings name "
        "the VideoJob "
        "and the error (`kubectl -n videojob-system logs deploy/videojob-operator | grep failed`): usually the API "
        "server "
        "refusing a write (RBAC, admission, quota) or S3 refusing an output cleanup.",
        for_="10m",
    ),
    Alert(
        "VideoJobFailureRatioHigh",
        f'sum(increase(videojob_failures_total{{{OP}, reason!~"{USER_ERRORS}"}}[1h])) '
        f'/ sum(increase(videojob_phase_transitions_total{{{OP}, phase=~"Succeeded|Failed"}}[1h])) > 0.25 '
        f'and sum(increase(videojob_failures_total{{{OP}, reason!~"{USER_ERRORS}"}}[1h])) >= 3',
        "More than a quarter of the videos finished in the last hour failed (user errors aside).",
        "The Renders dashboard's failures-by-reason panel names the cause; `kubectl get vj -A` and `kubectl describe "
        "vj NAME` "
        "show each failure's message, which says what to change: OOMKilled (raise memory or lower quality), "
        "DeadlineExceeded "
        "(renders too slow for the deadline), LLMUnavailable or NarrationFailed (the LLM or speech endpoint), "
        "UploadFailed (S3).",
    ),
    Alert(
        "VideoJobRendersOutOfMemory",
        f'sum(increase(videojob_attempt_retries_total{{{OP}, reason="OOMKilled"}}[1h])) '
        f'/ sum(increase(videojob_phase_transitions_total{{{OP}, phase=~"Succeeded|Failed"}}[1h])) > 0.2 '
        f'and sum(increase(videojob_attempt_retries_total{{{OP}, reason="OOMKilled"}}[1h])) >= 3',
        "More than a fifth of the renders in the last hour ran out of memory and started again with more.",
        "Each OOM retry loses the killed attempt's scene in progress (finished scenes stay in the scene cache), "
        "costs its CPU again and delays the video. The Renders dashboard's peak-memory panel shows, by quality, "
        "what renders need: raise that quality's memory in the chart's operator.presets (for example "
        '{"medium": {"memory": "3Gi"}}) so that first attempts fit, or set spec.resources.limits.memory on the '
        "VideoJobs that need more.",
        for_="15m",
    ),
    Alert(
        "VideoJobRendersOutOfScratch",
        f'sum(increase(videojob_attempt_retries_total{{{OP}, reason="ScratchFull"}}[1h])) '
        f'/ sum(increase(videojob_phase_transitions_total{{{OP}, phase=~"Succeeded|Failed"}}[1h])) > 0.2 '
        f'and sum(increase(videojob_attempt_retries_total{{{OP}, reason="ScratchFull"}}[1h])) >= 3',
        "More than a fifth of the renders in the last hour filled their scratch volume and started again with more.",
        "The kubelet evicts a renderer Pod whose scratch emptyDir (audio, scene clips, the video while it is made) "
        "passes its sizeLimit; the operator then starts the attempt again with VIDEOJOB_SCRATCH_FACTOR times the "
        "size (finished scenes stay in the scene cache), which costs the evicted Pod's scene in progress, its start "
        "and a delay. The Renders dashboard's attempts-retried panel shows which quality: raise that quality's "
        'scratch in the chart\'s operator.presets (for example {"high": {"scratch": "8Gi"}}) so that first attempts '
        "fit, and check that the nodes have that much ephemeral storage to spare.",
        for_="15m",
    ),
    Alert(
        "VideoJobsWaitingTooLong",
        f"max(videojob_oldest_waiting_seconds{{{OP}}}) > 1800",
        "A VideoJob has waited more than 30 minutes for its render to start.",
        "Every render slot is busy or renderer Pods cannot be scheduled. Check the queue length on the Overview "
        "dashboard, "
        "raise the operator's maxConcurrentRenders if the cluster has room, or add nodes; `kubectl describe vj NAME` "
        "shows "
        "Queued (waiting for a slot) or Unschedulable with the scheduler's reason.",
    ),
    Alert(
        "VideoJobRenderStalled",
        f"max(videojob_longest_without_progress_seconds{{{OP}}}) > 900",
        "A running render has reported no progress for 15 minutes.",
        "A renderer that is alive reports a progress event at least once per scene. Find the VideoJob (`kubectl get "
        "vj -A` and "
        "its stage), read its renderer's log (`kubectl logs job/JOB`) and its Pod's events; a Pod stuck pulling its "
        "image or "
        "a hung scene is ended by spec.activeDeadlineSeconds, or delete the VideoJob's Job to retry it now.",
    ),
    Alert(
        "VideoJobUploadsFailing",
        f'sum(increase(videojob_failures_total{{{OP}, reason="UploadFailed"}}[30m])) > 0',
        "Renders finished but their videos could not be uploaded to S3.",
        "The renderer retries uploads before it gives up, so S3 is refusing or unreachable: check the S3 endpoint, "
        "the bucket, "
        "the credentials Secret the operator names, and the renderer NetworkPolicy's egress to S3. The videos must be "
        "rendered again: recreate the failed VideoJobs once uploads work.",
        for_="0m",
    ),
)

GATEWAY_ALERTS = (
    Alert(
        "VideoJobGatewayDown",
        f"absent(up{{{GW}}} == 1)",
        "The videojob gateway is down or Prometheus cannot scrape it.",
        "Users cannot create or download videos through the API or the page. Check the gateway Deployment's Pods and "
        "events, its logs, and that its Service selects the Pods on the port named http.",
        severity="critical",
    ),
    Alert(
        "VideoJobGateway5xxHigh",
        f'sum(rate(videojob_gateway_requests_total{{{GW}, status=~"5.."}}[5m])) '
        f"/ sum(rate(videojob_gateway_requests_total{{{GW}}}[5m])) > 0.05",
        "More than 5% of the gateway's responses are server errors.",
        "The Gateway dashboard shows which route fails. The gateway's logs carry the error; most often the "
        "Kubernetes API "
        "(RBAC, the CRD missing) or S3 (downloads) is refusing it.",
    ),
    Alert(
        "VideoJobGatewayLatencyHigh",
        f"histogram_quantile(0.95, sum by (le) (rate(videojob_gateway_request_seconds_bucket{{{GW}}}[5m]))) > 1",
        "The gateway's 95th-percentile time to first byte is over 1 second.",
        "Check the gateway's CPU (its HorizontalPodAutoscaler adds replicas), then the latency of the Kubernetes API "
        "and of "
        "S3, which every request waits on; the Gateway dashboard's latency-by-route panel shows which route is slow.",
        for_="10m",
    ),
)


def rule_groups() -> dict[str, Any]:
    return {
        "groups": [
            {"name": "videojob-operator", "rules": [alert.rule() for alert in OPERATOR_ALERTS]},
            {"name": "videojob-gateway", "rules": [alert.rule() for alert in GATEWAY_ALERTS]},
        ]
    }


ALERTS = {alert.name: alert for alert in (*OPERATOR_ALERTS, *GATEWAY_ALERTS)}

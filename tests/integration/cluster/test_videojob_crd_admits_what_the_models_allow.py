"""The generated CRD, served by the real API server, agrees with the models at their edges.

The invalid corpus (tests/data/) proves what is refused; this proves the other side: the
largest storyboard the renderer draws is admitted, and a status written in the model's
full shape comes back whole, nothing pruned.
"""

from __future__ import annotations

import json

import pytest
import yaml

from videojob import limits as L
from videojob.status import VideoJobStatus

pytestmark = pytest.mark.cluster


def _videojob(name: str, scenes: int, title: str) -> str:
    scene = {"template": "bullets", "title": "Step", "bullets": ["One"], "narration": "n" * L.NARRATION_MAX_CHARS}
    return yaml.safe_dump({
        "apiVersion": "videojob.dev/v1alpha1", "kind": "VideoJob", "metadata": {"name": name},
        "spec": {"source": {"storyboard": {"title": title, "scenes": [scene] * scenes}}},
    })  # fmt: skip


def test_the_largest_storyboard_the_renderer_draws_is_admitted(kube_cluster, videojob_crd, namespace):
    manifest = _videojob("largest", L.SCENES_MAX, "t" * L.TITLE_MAX_CHARS)
    kube_cluster.kubectl("create", "-n", namespace, "-f", "-", input=manifest)
    stored = json.loads(kube_cluster.kubectl("get", "vj", "largest", "-n", namespace, "-o", "json").stdout)
    assert len(stored["spec"]["source"]["storyboard"]["scenes"]) == L.SCENES_MAX
    # Fields beyond template and narration belong to the template and are kept, not pruned.
    assert stored["spec"]["source"]["storyboard"]["scenes"][0]["bullets"] == ["One"]


def test_one_scene_more_is_refused_naming_the_field_and_the_limit(kube_cluster, videojob_crd):
    result = kube_cluster.kubectl(
        "create", "-n", "default", "-f", "-", check=False, input=_videojob("one-too-many", L.SCENES_MAX + 1, "T")
    )
    assert result.returncode != 0
    assert (
        f"spec.source.storyboard.scenes: Too many: {L.SCENES_MAX + 1}: must have at most {L.SCENES_MAX}"
        in result.stderr
    )


FULL_STATUS = {
    "phase": "Succeeded", "progress": 100, "stage": "Done", "queuePosition": 1,
    "estimatedCompletionTime": "2026-11-21T10:31:30Z", "startTime": "2026-11-21T10:00:02Z",
    "completionTime": "2026-11-21T10:31:00Z", "attempts": 2, "jobName": "status-2",
    "attemptHistory": [{"attempt": 1, "jobName": "status-1", "memory": "1Gi", "outcome": "OOMKilled"},
                       {"attempt": 2, "jobName": "status-2", "memory": "1536Mi", "outcome": "Succeeded"}],
    "observedGeneration": 1,
    "conditions": [{"type": "Succeeded", "status": "True", "reason": "RenderSucceeded",
                    "message": "The video is stored.", "lastTransitionTime": "2026-11-21T10:31:00Z",
                    "observedGeneration": 1}],
    "output": {"bucket": "videos", "key": "o/video.mp4", "url": "s3://videos/o/video.mp4", "sizeBytes": 123456,
               "durationSeconds": 61.5, "sha256": "0" * 64, "subtitles": {"vtt": "o/v.vtt", "srt": "o/v.srt"},
               "thumbnail": "o/t.png", "manifest": "o/manifest.json", "cached": False},
    "usage": {"llmPromptTokens": 1, "llmCompletionTokens": 2, "ttsCharacters": 3, "cpuSeconds": 4.5,
              "scenesRendered": 5, "scenesCached": 6, "peakMemoryBytes": 734003200},
    "failure": {"reason": "OOMKilled", "message": "Raise the memory limit.", "exitCode": 137},
}  # fmt: skip


def test_a_status_in_the_models_full_shape_comes_back_whole(kube_cluster, videojob_crd, namespace):
    every_field = {field.alias or name for name, field in VideoJobStatus.model_fields.items()}
    assert FULL_STATUS.keys() == every_field
    VideoJobStatus.model_validate(FULL_STATUS)
    kube_cluster.kubectl("create", "-n", namespace, "-f", "-", input=_videojob("status", 1, "T"))
    kube_cluster.kubectl(
        "patch",
        "vj",
        "status",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": FULL_STATUS}),
    )
    stored = json.loads(kube_cluster.kubectl("get", "vj", "status", "-n", namespace, "-o", "json").stdout)
    assert stored["status"] == FULL_STATUS


def test_kubectl_explain_says_why_retries_cannot_change(kube_cluster, videojob_crd):
    text = " ".join(kube_cluster.kubectl("explain", "vj.spec.retries").stdout.split())
    assert "Immutable once created, rather than applied to a render under way" in text

"""The seed plan's production milestone: ten prompts submitted at once through the gateway,
rendered for real on the node, the operator's concurrency cap holding throughout.

Ten programs call the gateway with the real ``openai`` client at the same moment, each
``create`` then ``poll`` as OpenAI's own helper does. The gateway turns each prompt into a
VideoJob whose LLM is the local OpenAI-compatible stand-in (the one stand-in the design
allows), listening on the node's bridge gateway so the renderer Pods reach it. The operator
admits at most ``CAP`` renders; the rest wait Queued. Everything else is real: API server,
kubelet, the renderer image (Manim, espeak-ng, ffmpeg), MinIO, presigned downloads.

The renders are kept small (low quality, two scenes each) because the machine has two cores.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import openai
import pytest

from support.gateway import (  # noqa: F401 - fixtures shared with the gateway's integration tests
    Gateway,
    create_tenant,
    gateway_kubeconfig,
    start_gateway,
)
from support.node_operator import start_node_operator
from support.openai_stub import OpenAIStub, Reply, chat_completion
from videojob_devenv.minio import MinioServer

CAP = 2
# Ten low-quality two-scene renders, CAP at a time, on two cores: a few minutes; this is the bound.
RENDER_DEADLINE = 900
# The e2e tier's own allowance (tests/e2e/conftest.py) for the node and the images, plus the renders.
TEST_TIMEOUT = 900 + RENDER_DEADLINE
LLM_SECRET = ("videojob-llm", "apiKey", "sk-e2e-stand-in")
PROMPT_TOKENS = 321  # what the stand-in reports per request; the VideoJob's usage must carry it
PROMPTS = [
    "Why the sky is blue",
    "How rainbows form",
    "What makes tides rise",
    "How bees make honey",
    "Why leaves change colour",
    "How a lever multiplies force",
    "What a prime number is",
    "How vaccines train the body",
    "Why ice floats on water",
    "How the moon shows phases",
]

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.minio,
    pytest.mark.timeout(TEST_TIMEOUT),
    # The client marks its video methods deprecated (OpenAI's hosted service closed); programs still call them.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def storyboard_for(topic: str) -> dict[str, Any]:
    """Three short scenes, every one naming the topic: no scene of one video is in the render cache
    (shared in S3) from another, so each of the ten is drawn in full."""
    return {
        "videojob": "storyboard/v1",
        "title": topic,
        "language": "en",
        "scenes": [
            {"narration": f"{topic}.", "visual": {"kind": "title_card", "title": topic, "subtitle": "In a minute"}},
            {
                "narration": f"Two ideas explain {topic.lower()}.",
                "visual": {"kind": "bullet_list", "heading": topic, "bullets": ["The first idea", "The second idea"]},
            },
            {
                "narration": "Remember these.",
                "visual": {"kind": "key_takeaways", "points": [topic, "Ask why", "Test it"]},
            },
        ],
    }


SCENES = len(storyboard_for(PROMPTS[0])["scenes"])


def answer_by_prompt(request: dict[str, Any]) -> Reply:
    """Each render's storyboard from its own prompt, so ten concurrent renders make ten different videos."""
    asked = json.dumps(request["json"].get("messages", []))
    topics = [topic for topic in PROMPTS if topic in asked]
    if request["path"] != "/v1/chat/completions" or len(topics) != 1:
        return 400, {"error": {"message": f"the stand-in has no answer for {request['path']}: {asked[:300]}"}}
    return 200, chat_completion(json.dumps(storyboard_for(topics[0])), prompt_tokens=PROMPT_TOKENS)


@pytest.fixture
def minio_server(node_minio: MinioServer) -> MinioServer:
    """The gateway presigns downloads against the MinIO the renderer Pods upload to."""
    return node_minio


@pytest.fixture
def operator(kube_cluster, videojob_crd, namespace, node_minio, renderer_image, pod_openai_stub, tmp_path):
    """The operator as a real process watching the tenant's namespace, at most CAP renders at once."""
    name, key, value = LLM_SECRET
    kube_cluster.kubectl("create", "secret", "generic", name, "-n", namespace, f"--from-literal={key}={value}")
    process = start_node_operator(
        kube_cluster,
        namespace,
        node_minio,
        renderer_image,
        tmp_path / "operator.log",
        VIDEOJOB_MAX_CONCURRENT_RENDERS=str(CAP),
    )
    yield process
    process.stop()


class PodSampler(threading.Thread):
    """Samples the renderer Pods once a second: how many are unfinished (Pending, or rendering) at once,
    and each Pod's container start and finish as the kubelet reported them."""

    def __init__(self, kube_cluster: Any, namespace: str):
        super().__init__(daemon=True)
        self.kube_cluster, self.namespace = kube_cluster, namespace
        self.stopping = threading.Event()
        self.most_unfinished = 0
        self.samples = 0
        self.pods: dict[str, dict[str, Any]] = {}

    def run(self) -> None:
        while not self.stopping.is_set():
            listed = self.kube_cluster.kubectl(
                "get",
                "pods",
                "-n",
                self.namespace,
                "-l",
                "app.kubernetes.io/name=videojob-renderer",
                "-o",
                "json",
                check=False,
            )
            if listed.returncode == 0:
                items = json.loads(listed.stdout)["items"]
                unfinished = [pod for pod in items if _renders(pod)]
                self.most_unfinished = max(self.most_unfinished, len(unfinished))
                self.samples += 1
                self.pods |= {pod["metadata"]["name"]: pod for pod in items}
            self.stopping.wait(1.0)

    def intervals(self) -> list[tuple[float, float]]:
        """(started, finished) of every renderer container seen to finish, in Unix seconds."""
        spans = []
        for pod in self.pods.values():
            for container in pod["status"].get("containerStatuses") or []:
                done = (container.get("state") or {}).get("terminated")
                if done and done.get("startedAt") and done.get("finishedAt"):
                    spans.append((_unix(done["startedAt"]), _unix(done["finishedAt"])))
        return spans


def _renders(pod: dict[str, Any]) -> bool:
    """Pending, or running a renderer container that has not ended.

    Not the phase alone: the kubelet reports a container terminated, then tears the Pod down and
    only then gives it phase Succeeded (seconds on a busy node). The operator, which reads the same
    terminated state, gives the slot to the next VideoJob at once, whose Pod waits for the CPU the
    old one still holds."""
    if pod["status"].get("phase") in ("Succeeded", "Failed"):
        return False
    containers = pod["status"].get("containerStatuses") or []
    return not containers or any("terminated" not in (c.get("state") or {}) for c in containers)


def _unix(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant (a finish at t comes before a start at t)."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1]))
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_ten_prompts_at_once_all_complete_within_the_cap(
    kube_cluster: Any,
    namespace: str,
    operator: Any,
    pod_openai_stub: OpenAIStub,
    create_tenant: Callable[..., str],  # noqa: F811 - the fixture imported above
    start_gateway: Callable[..., Gateway],  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    pod_openai_stub.answer = answer_by_prompt
    secret_name, secret_key, secret_value = LLM_SECRET
    gateway = start_gateway(
        llm_base_url=pod_openai_stub.base_url,
        llm_model="test-model",
        llm_secret_name=secret_name,
        llm_secret_key=secret_key,
        rate_burst=str(len(PROMPTS)),  # ten at once is the burst this test asks of one tenant
    )
    key = create_tenant(namespace)
    sampler = PodSampler(kube_cluster, namespace)
    sampler.start()

    start = threading.Barrier(len(PROMPTS))
    created: dict[str, Any] = {}
    finished: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}

    def program(prompt: str) -> None:
        # One program per prompt, written for OpenAI's Videos API: create, then poll to the end.
        client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0, timeout=60)
        try:
            start.wait(30)
            video = client.videos.create(
                prompt=prompt,
                seconds="15",  # type: ignore[arg-type]  # the shortest explainer; OpenAI's 4/8/12 s are below it
                size="854x480",  # type: ignore[arg-type]  # low quality
            )
            created[prompt] = video
            finished[prompt] = client.videos.poll(video.id, poll_interval_ms=2000)
        except BaseException as error:  # reported below with the prompt it belongs to
            errors[prompt] = error

    began = time.monotonic()
    programs = [threading.Thread(target=program, args=(prompt,), daemon=True) for prompt in PROMPTS]
    for thread in programs:
        thread.start()
    for thread in programs:
        thread.join(max(1.0, RENDER_DEADLINE - (time.monotonic() - began)))
    wall = time.monotonic() - began
    # A render is Succeeded once its log says so, a moment before its container ends: sample until each has.
    ending = time.monotonic() + 30
    while len(sampler.intervals()) < len(PROMPTS) and time.monotonic() < ending:
        time.sleep(0.5)
    sampler.stopping.set()
    sampler.join(10)

    videojobs = {
        item["metadata"]["name"]: item
        for item in json.loads(kube_cluster.kubectl("get", "vj", "-n", namespace, "-o", "json").stdout)["items"]
    }
    phases = {name: (vj.get("status") or {}).get("phase") for name, vj in videojobs.items()}
    assert not errors, f"programs that failed: {errors!r}\nphases: {phases}\n{operator.log_tail(40)}"
    assert len(created) == len(PROMPTS) and len(videojobs) == len(PROMPTS), (sorted(created), phases)
    assert len(finished) == len(PROMPTS), (
        f"not finished within {RENDER_DEADLINE}s: {sorted(set(PROMPTS) - set(finished))}\nphases: {phases}\n"
        f"{operator.log_tail(40)}"
    )
    not_completed = {p: (video.status, video.error) for p, video in finished.items() if video.status != "completed"}
    assert not not_completed, f"{not_completed}\n{operator.log_tail(60)}"
    assert all(phase == "Succeeded" for phase in phases.values()), phases

    # The cap held: never more than CAP renderer Pods unfinished, by sampling and by the kubelet's own times.
    spans = sampler.intervals()
    assert sampler.samples > 10, f"the renderer Pods were sampled only {sampler.samples} times"
    assert sampler.most_unfinished <= CAP, f"{sampler.most_unfinished} renderer Pods unfinished at once, cap {CAP}"
    assert len(spans) >= len(PROMPTS), f"renderer containers seen to finish: {len(spans)}"
    assert most_at_once(spans) <= CAP, f"renderer containers ran {most_at_once(spans)} at once: {sorted(spans)}"
    assert most_at_once(spans) == CAP, "the renders never overlapped: the cap was not what limited them"

    # Each prompt reached the stand-in from its Pod with the tenant's Secret, and became its own video.
    chats = [request for request in pod_openai_stub.requests if request["path"] == "/v1/chat/completions"]
    assert len(chats) == len(PROMPTS) and {r["authorization"] for r in chats} == {f"Bearer {secret_value}"}
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0, timeout=60)
    digests = set()
    for prompt, video in finished.items():
        output = video.to_dict()["output"]
        content = client.videos.download_content(video.id, variant="video").read()
        assert hashlib.sha256(content).hexdigest() == output["sha256"], prompt
        assert len(content) == output["size_bytes"] > 10_000, prompt
        assert videojobs[video.id]["status"]["output"]["sha256"] == output["sha256"]
        assert videojobs[video.id]["spec"]["source"] == {"prompt": prompt}
        usage = videojobs[video.id]["status"]["usage"]
        drawn = (usage["scenesRendered"], usage.get("scenesCached", 0), usage["llmPromptTokens"])
        assert drawn == (SCENES, 0, PROMPT_TOKENS), (prompt, usage)
        digests.add(output["sha256"])
    assert len(digests) == len(PROMPTS), "two prompts gave the same video"
    assert "reconciling VideoJob" not in operator.log(), "the operator hit an error on the way"

    renders = sorted(
        _unix(vj["status"]["completionTime"]) - _unix(vj["status"]["startTime"]) for vj in videojobs.values()
    )
    report = {
        "wall_seconds": round(wall, 1),
        "cap": CAP,
        "most_unfinished_pods_sampled": sampler.most_unfinished,
        "most_containers_running_at_once": most_at_once(spans),
        "render_seconds": [round(seconds, 1) for seconds in renders],
        "container_seconds": sorted(round(end - begin, 1) for begin, end in spans),
        "video_seconds": sorted(vj["status"]["output"]["durationSeconds"] for vj in videojobs.values()),
        "video_bytes": sorted(video.to_dict()["output"]["size_bytes"] for video in finished.values()),
    }
    (tmp_path / "ten-prompts.json").write_text(json.dumps(report, indent=1))
    print(f"\nten prompts through the gateway: {json.dumps(report)}")

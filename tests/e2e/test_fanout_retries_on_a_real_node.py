"""A fan-out index that fills its scratch volume, on the real node: the attempt ends, the next is bigger, same video.

Nothing is played: the operator gives every renderer Pod's scratch emptyDir the low preset's
sizeLimit (VIDEOJOB_PRESETS), the real renderer writes its narration and scene clips there, and the
kubelet's eviction manager evicts the Pod that passes it. The fan-out is an Indexed Job of 2 Pods
(``backoffLimitPerIndex``: spec.retries, 2), which would retry the evicted index at the same size; the
operator ends the attempt instead (backoffLimit 0), the Job controller stops the other index, and
attempt 2 is the same fan-out with VIDEOJOB_SCRATCH_FACTOR times the scratch. Every scene either index
finished is in the scene cache, so attempt 2 draws only the rest; and the video is the one a single Pod
makes of the same lecture: same streams, same decoded frames and audio packets, same subtitles.

Sizes and times measured in the kubelet's volume stats and the renderers' logs on this node (the lecture
below, low quality, espeak, a quarter of a CPU per Pod, load 3-12): index 0 (6 scenes, the equation first)
peaked at 19.3 MiB; index 1, the one that also joins the video (3 scenes of its own), held 9.3 MiB with its
own narration, 27.9 MiB once it had fetched everyone's (the narration track is fed while the scenes are
drawn), 29.3 MiB with its own 3 scenes drawn (55 s) and 30.3 MiB with index 0's first; then 36.1 MiB with
its second (72 s), up to 47.3 MiB, and 50.1 MiB at the join, ending at 125 s. So a 34Mi sizeLimit
evicts index 1 only, mostly once two of index 0's scenes are in the cache, while it waits for index 0's
last scenes and joins (over the limit for 50 s: the eviction manager is up to 15 s behind the volume,
more under load); the 40-term equation, which index 0 draws first, keeps it waiting that long. But the
volume also peaks between those samples while index 1 draws: 2 of 5 loaded runs evicted it about 50 s
after its start, with 2 or 3 of its own scenes finished and none of index 0's. So the test does not
depend on the moment: it reads from every index's progress lines how many scenes it had finished before
its Pod ended, and attempt 2 must take at least those from the cache.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
import urllib.request

from support import videojob_manifest, wait_for
from videojob_devenv.processes import free_port

from .test_chaos_scratch_full_on_a_real_node import _evicted_by_the_kubelet
from .test_scene_fanout_on_a_real_node import _download, _forget_the_scene_cache, _frame_hashes, _streams

LIMIT = "34Mi"  # above index 0's 19.3 MiB and index 1's 30.3 before its second fetched scene, below its 36.1
GROWN = "544Mi"  # 16 x 34Mi
SLOW = {"requests": {"cpu": "250m"}, "limits": {"cpu": "250m"}}  # renders of tens of seconds: the kubelet sees it
ESPEAK = {"provider": "espeak"}  # a small program: the scratch holds the scenes' files
SENTENCE = "A render writes its narration, its scene clips and the video into the scratch volume"
SCENES = 9  # the title and eight parts
EQUATION = "+".join(["W" * 9] * 40)  # slow to draw: index 0 draws it first (the longest narration)
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"


def _lecture() -> str:
    token = secrets.token_hex(4)  # nothing from another test's scene cache
    first = "\n## Part 1\n\n" + f"{SENTENCE}, part 1, {token}. " * 6 + f"\n\n$${EQUATION}$$\n"
    return f"# Disk {token}\n\nA lecture that fills its disk, {token}.\n{first}" + "".join(
        f"\n## Part {n}\n\n" + f"{SENTENCE}, part {n}, {token}. " * 4 + "\n" for n in range(2, SCENES)
    )


def _get(kube_cluster, namespace: str, *args: str) -> dict:
    return json.loads(kube_cluster.kubectl("get", *args, "-n", namespace, "-o", "json").stdout)


def _settled(status: dict) -> bool:
    unsettled = [a for a in status.get("attemptHistory") or () if a.get("outcome") in ("Running", "Pending")]
    return status.get("phase") in ("Succeeded", "Failed") and not unsettled


def _render(kube_cluster, namespace: str, operator, name: str, lecture: str, during=None, **fields):
    manifest = videojob_manifest(name, source={"markdown": lecture}, voice=ESPEAK, **fields)
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    created = time.monotonic()

    def settled() -> bool:
        if during is not None:
            during()
        return _settled(_get(kube_cluster, namespace, "vj", name).get("status") or {})

    with contextlib.suppress(TimeoutError):  # the assertion says what was seen
        wait_for(settled, 300, f"vj/{name} to finish", interval=0.5)
    status = _get(kube_cluster, namespace, "vj", name).get("status") or {}
    assert status.get("phase") == "Succeeded", f"{json.dumps(status, indent=1)}\n{operator.log_tail(60)}"
    took = time.monotonic() - created
    print(f"vj/{name}: {status['phase']} after {took:.0f} s, attempts {status.get('attemptHistory')}")
    return status, took


def _share_summary(kube_cluster, namespace: str, pod: dict) -> tuple[int, int]:
    """(drawn, from the cache) of a finished index's own share, from its log's summary line."""
    log = kube_cluster.kubectl("logs", pod["metadata"]["name"], "-n", namespace).stdout
    summary = re.search(r"(\d+) (?:scenes? )?rendered, (\d+) cached", log)  # "2 rendered, 4 cached"
    assert summary, log[-2000:]
    drawn, cached = map(int, summary.groups())
    return drawn, cached


def _note_finished_scenes(kube_cluster, namespace: str, name: str, seen: dict[str, int]) -> None:
    """The most scenes each index of attempt 1 said it had finished (its progress lines, "scene": k of its
    share), read while its Pod is there: the Job controller deletes the stopped index's Pod."""
    selector = f"videojob.dev/name={name},videojob.dev/attempt=1"
    for pod in _get(kube_cluster, namespace, "pods", "-l", selector)["items"]:
        index = pod["metadata"]["labels"].get(COMPLETION_INDEX, "?")
        log = kube_cluster.kubectl("logs", pod["metadata"]["name"], "-n", namespace, check=False).stdout
        events = [json.loads(line) for line in log.splitlines() if line.startswith("{") and '"phase"' in line]
        finished = [event.get("scene") or 0 for event in events if event.get("phase") == "Rendering"]
        seen[index] = max([seen.get(index, 0), *finished])


def _scratch_retries(port: int) -> float:
    """videojob_attempt_retries_total{reason="ScratchFull"} as the operator's /metrics page says it."""
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    found = re.findall(r'^videojob_attempt_retries_total\{quality="low",reason="ScratchFull"\} (\S+)$', page, re.M)
    return float(found[0]) if found else -1.0


def test_a_fan_out_index_evicted_for_scratch_comes_back_bigger_reuses_every_finished_scene_and_makes_the_same_video(
    kube_cluster, namespace, node_operator, node_minio, tmp_path
):
    port = free_port()
    operator = node_operator(
        VIDEOJOB_PRESETS=json.dumps({"low": {"scratch": LIMIT}}),
        VIDEOJOB_SCRATCH_FACTOR="16",
        VIDEOJOB_SCRATCH_CEILING="1Gi",
        VIDEOJOB_METRICS_PORT=str(port),
    )
    lecture = _lecture()

    # The single Pod's video, on a whole CPU (a single Pod holds every scene's files: it may be evicted and
    # retried bigger too; its video is what the fan-out must make).
    _forget_the_scene_cache(node_minio)
    single_status, _ = _render(kube_cluster, namespace, operator, "disk-one", lecture)
    single = _download(node_minio, single_status, tmp_path / "single.mp4")
    _forget_the_scene_cache(node_minio)  # the fan-out draws every scene again, in its own Pods

    seen: dict[str, int] = {}  # index -> scenes it had finished in attempt 1
    fanned_status, took = _render(
        kube_cluster, namespace, operator, "disk-two", lecture, parallelism=2, resources=SLOW,
        during=lambda: _note_finished_scenes(kube_cluster, namespace, "disk-two", seen),
    )  # fmt: skip

    # Attempt 1 ended when the kubelet evicted index 1; attempt 2 is the same fan-out with 16 times the scratch.
    history = fanned_status["attemptHistory"]
    assert [(a["attempt"], a["scratch"], a["outcome"]) for a in history] == [
        (1, LIMIT, "ScratchFull"),
        (2, GROWN, "Succeeded"),
    ]
    first_pods = _get(kube_cluster, namespace, "pods", "-l", f"job-name={history[0]['jobName']}")["items"]
    index_1 = [pod for pod in first_pods if pod["metadata"]["labels"].get(COMPLETION_INDEX) == "1"]
    assert len(index_1) == 1, [pod["metadata"]["name"] for pod in first_pods]  # not retried at 34Mi
    print(f"attempt 1: index 1 exit code {_evicted_by_the_kubelet(index_1[0], LIMIT)}")
    index_0 = [pod for pod in first_pods if pod["metadata"]["labels"].get(COMPLETION_INDEX) == "0"]
    assert all(pod["status"].get("reason") != "Evicted" for pod in index_0), index_0  # stopped, not evicted
    jobs = _get(kube_cluster, namespace, "jobs", "-l", "videojob.dev/name=disk-two")["items"]
    assert sorted((job["spec"]["completionMode"], job["spec"]["completions"]) for job in jobs) == [("Indexed", 2)] * 2
    events = _get(kube_cluster, namespace, "events", "--field-selector", "involvedObject.name=disk-two")["items"]
    raised = [e["message"] for e in events if e["reason"] == "ScratchRaised"]
    assert raised and f"starts with {GROWN} of scratch" in raised[0], [e["reason"] for e in events]

    # Every scene either index finished in attempt 1 came from the cache: attempt 2 drew only the rest.
    second_pods = _get(kube_cluster, namespace, "pods", "-l", f"job-name={history[1]['jobName']}")["items"]
    by_index = {pod["metadata"]["labels"].get(COMPLETION_INDEX): pod for pod in second_pods}
    again = {index: _share_summary(kube_cluster, namespace, by_index[index]) for index in ("0", "1")}
    usage = fanned_status["usage"]
    print(
        f"attempt 1 finished {seen} scenes by index; attempt 2 (drawn, cached) by index {again}; "
        f"in all {usage.get('scenesRendered')} drawn, {usage.get('scenesCached')} from the cache"
    )
    assert sum(seen.values()) >= 1, seen  # the eviction came once some scene was finished (see the docstring)
    for index, (_, cached) in again.items():
        assert cached >= seen.get(index, 0), (index, seen, again)
    assert usage["scenesRendered"] + usage.get("scenesCached", 0) == SCENES, usage
    assert usage["scenesRendered"] == sum(drawn for drawn, _ in again.values()), usage

    # The same video as the single Pod's, decoded: streams, every frame and audio packet, subtitles.
    fanned = _download(node_minio, fanned_status, tmp_path / "fanned.mp4")
    assert _streams(fanned) == _streams(single)
    assert _frame_hashes(fanned, "v") == _frame_hashes(single, "v")
    assert _frame_hashes(fanned, "a") == _frame_hashes(single, "a")
    subtitles = [node_minio.client().get_object(s["output"]["bucket"], s["output"]["subtitles"]["vtt"]).read()
                 for s in (single_status, fanned_status)]  # fmt: skip
    assert subtitles[0] == subtitles[1]

    # The operator counted each bigger attempt it started for scratch (the single Pod's too, if it had one).
    histories = [status.get("attemptHistory") or [] for status in (single_status, fanned_status)]
    retried = sum(attempt["outcome"] == "ScratchFull" for history in histories for attempt in history)
    assert wait_for(lambda: _scratch_retries(port) == retried or None, 10, "the scratch retries counted") is True
    print(f"fan-out: {took:.0f} s from creation to Succeeded; videojob_attempt_retries_total ScratchFull {retried}")

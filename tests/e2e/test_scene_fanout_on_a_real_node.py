"""Scene fan-out on the real node: one video's scenes drawn by two Pods, the last of which joins them.

Nothing is played by the test: the operator runs as a process against the real API
server, the Job controller runs the Indexed shares Job and retries the index whose Pod the
test deletes (index 1, the one that assembles), the kubelet runs the renderer image, and
the scenes travel through the real MinIO's scene cache. The video must be the one a single
Pod makes of the same storyboard: same streams, same length, same decoded frames and
samples, same subtitles; and no third Pod, no second Job, is started to join it.

The renders are low quality (a 1-CPU limit per Pod, so each Pod draws one scene at a time;
each requests 950m, so that two fit beside any small system Pod on the node's two CPUs).
libx264 runs a fixed number of threads (manim_render.ENCODER_THREADS; left to count the CPUs
it may use, its frames differed with that count, see
tests/integration/renderer/test_a_scene_is_the_same_picture_wherever_it_is_drawn.py), and they
are frame threads: x264's slice threads (PyAV's default) raced, and about one run in three to
eight a few 7-frame bursts of animation differed by 1-3 levels in tens of pixels (see
tests/integration/renderer/test_a_scene_encodes_to_the_same_frames_every_time.py). So every
decoded frame, audio packet and timestamp must be exactly the single Pod's.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import subprocess
from pathlib import Path

import numpy
import pytest

from support import videojob_manifest, wait_for
from support.node_operator import start_node_operator
from videojob.renderer.shards import JOIN_WEIGHT, share_of

COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_FAILURES = "batch.kubernetes.io/job-index-failure-count"


def _scene(template: str, narration: str, **fields) -> dict:
    return {"template": template, "narration": narration, **fields}


SCENES = [
    _scene("title", "Why does the sea rise and fall twice a day?", title="Tides", subtitle="Moon and water"),
    _scene("bullets", "The Moon pulls the near ocean, and the far ocean is left behind.", title="Two bulges",
           bullets=["The near side is pulled", "The far side lags"]),
    _scene("equation", "The pull falls with the cube of the distance.", latex=r"F \propto \frac{1}{d^3}",
           caption="Tidal force"),
    _scene("bullets", "The Earth turns under both bulges once a day.", title="Two tides a day",
           bullets=["One bulge", "Then the other"]),
    _scene("title", "The Sun adds its own, smaller tide.", title="Spring and neap", subtitle="Sun and Moon"),
    _scene("takeaways", "Remember the two bulges and the turning Earth.", title="Key takeaways",
           points=["Two bulges", "Earth turns", "Sun helps"]),
]  # fmt: skip
STORYBOARD = {"title": "Tides", "scenes": SCENES}


@pytest.fixture
def operator(kube_cluster, videojob_crd, namespace, node_minio, renderer_image, tmp_path):
    process = start_node_operator(kube_cluster, namespace, node_minio, renderer_image, tmp_path / "operator.log")
    yield process
    process.stop()


def _get(kube_cluster, namespace: str, *what: str) -> dict:
    return json.loads(kube_cluster.kubectl("get", *what, "-n", namespace, "-o", "json").stdout)


def _render(kube_cluster, namespace, operator, name, *, parallelism, during=None) -> tuple[dict, list[str]]:
    """Apply the storyboard as a VideoJob and wait for it; its final status and every stage seen on the way."""
    manifest = videojob_manifest(name, source={"storyboard": STORYBOARD}, parallelism=parallelism,
                                 voice={"provider": "espeak", "name": "en-us"}, retries=2,
                                 resources={"requests": {"cpu": "950m"}})  # fmt: skip
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    stages: list[str] = []

    def finished() -> bool:
        status = _get(kube_cluster, namespace, "vj", name).get("status") or {}
        if status.get("stage") and (not stages or stages[-1] != status["stage"]):
            stages.append(status["stage"])
        if during is not None:
            during()
        return status.get("phase") in ("Succeeded", "Failed")

    with contextlib.suppress(TimeoutError):
        wait_for(finished, 600, f"vj/{name} to finish", interval=0.3)
    status = _get(kube_cluster, namespace, "vj", name)["status"]
    assert status["phase"] == "Succeeded", (
        f"stages: {stages}\nstatus: {json.dumps(status, indent=1)}\noperator log:\n{operator.log_tail(60)}"
    )
    return status, stages


def _download(node_minio, status: dict, into: Path) -> Path:
    node_minio.client().fget_object(status["output"]["bucket"], status["output"]["key"], str(into))
    return into


def _frame_hashes(video: Path, stream: str) -> list[str]:
    """Each decoded frame's (or audio packet's) MD5, with its timestamp and size: ffmpeg -f framemd5."""
    run = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", f"0:{stream}", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return [line for line in run.stdout.splitlines() if not line.startswith("#")]


def _frames_apart(first: Path, second: Path, size: tuple[int, int]) -> list[tuple[int, int, float]]:
    """Frames whose decoded pixels differ: (frame number, most levels apart, share of pixels apart)."""
    width, height = size
    frame_bytes = width * height * 3
    decode = ["ffmpeg", "-v", "error", "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    decoders = [subprocess.Popen([*decode[:3], "-i", str(video), *decode[3:]], stdout=subprocess.PIPE)
                for video in (first, second)]  # fmt: skip
    apart = []
    try:
        for number in itertools.count():
            frames = [decoder.stdout.read(frame_bytes) for decoder in decoders if decoder.stdout]
            if not frames[0] and not frames[1]:
                break
            a, b = (numpy.frombuffer(frame, dtype=numpy.uint8).astype(numpy.int16) for frame in frames)
            if a.shape != b.shape:
                apart.append((number, 255, 1.0))
                break
            if not numpy.array_equal(a, b):
                levels = numpy.abs(a - b).reshape(-1, 3).max(axis=1)
                apart.append((number, int(levels.max()), float(numpy.count_nonzero(levels)) / (width * height)))
    finally:
        for decoder in decoders:
            decoder.kill()
            decoder.wait()
    return apart


def _video_size(video: Path) -> tuple[int, int]:
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "json", str(video)], capture_output=True, text=True, check=True)  # fmt: skip
    stream = json.loads(probe.stdout)["streams"][0]
    return stream["width"], stream["height"]


def _streams(video: Path) -> list[tuple[str, str, str]]:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration,nb_frames",
                            "-of", "json", str(video)], capture_output=True, text=True, check=True)  # fmt: skip
    return [(s["codec_type"], s["duration"], s["nb_frames"]) for s in json.loads(probe.stdout)["streams"]]


def _phases_announced(kube_cluster, namespace: str, name: str) -> list[str]:
    """The operator's Event reasons on the VideoJob, oldest first: one per phase it wrote."""
    selector = f"involvedObject.name={name},involvedObject.kind=VideoJob"
    listed = kube_cluster.kubectl("get", "events", "-n", namespace, "--field-selector", selector, "-o", "json")
    events = sorted(json.loads(listed.stdout)["items"], key=lambda e: e.get("eventTime") or e.get("firstTimestamp"))
    return [event["reason"] for event in events]


def _forget_the_scene_cache(node_minio) -> None:
    client = node_minio.client()
    for item in client.list_objects(node_minio.bucket, prefix="cache/", recursive=True):
        client.remove_object(node_minio.bucket, item.object_name)


def test_two_pods_make_the_video_one_pod_makes_and_a_deleted_index_retries_alone(
    kube_cluster, namespace, operator, node_minio, tmp_path
):
    _forget_the_scene_cache(node_minio)
    single_status, _ = _render(kube_cluster, namespace, operator, "tides-one", parallelism=1)
    single = _download(node_minio, single_status, tmp_path / "single.mp4")
    _forget_the_scene_cache(node_minio)  # the fan-out draws every scene again, in its own Pods

    # Delete index 1's Pod (the last index: the one that joins the video) once it has drawn (and cached)
    # a scene of its share, but not all of them.
    deleted: dict[str, str] = {}

    def delete_index_1_midway() -> None:
        if deleted:
            return
        for pod in _get(kube_cluster, namespace, "pods", "-l", "videojob.dev/step=shares")["items"]:
            if pod["metadata"]["labels"].get(COMPLETION_INDEX) != "1" or pod["status"].get("phase") != "Running":
                continue
            log = kube_cluster.kubectl("logs", pod["metadata"]["name"], "-n", namespace, check=False).stdout
            drawn = [json.loads(line) for line in log.splitlines() if '"phase":"Rendering"' in line]
            if any(event.get("scene") and event["scene"] < event["scenes"] for event in drawn):
                deleted.update(name=pod["metadata"]["name"], uid=pod["metadata"]["uid"])
                others = _get(kube_cluster, namespace, "pods", "-l", f"{COMPLETION_INDEX}=0")["items"]
                deleted["index_0_uid"] = others[0]["metadata"]["uid"]
                kube_cluster.kubectl("delete", "pod", pod["metadata"]["name"], "-n", namespace, "--wait=false")

    fanned_status, stages = _render(
        kube_cluster, namespace, operator, "tides-two", parallelism=2, during=delete_index_1_midway
    )
    fanned = _download(node_minio, fanned_status, tmp_path / "fanned.mp4")

    # Every Pod's progress reached the one status, counted over the whole storyboard.
    assert any(re.fullmatch(r"Rendering scene [1-5]/6 on 2 Pods", stage) for stage in stages), stages
    phases = _phases_announced(kube_cluster, namespace, "tides-two")
    assert "Assembling" in phases and phases.index("Assembling") > phases.index("Rendering"), phases

    # The retry: index 1 alone got a new Pod, which found its finished scenes in the cache.
    assert deleted, "index 1's Pod was never seen between its first and last scene"
    shares = _get(kube_cluster, namespace, "pods", "-l", "videojob.dev/step=shares")["items"]
    by_index = {pod["metadata"]["labels"][COMPLETION_INDEX]: pod for pod in shares}
    assert len(shares) == 2 and set(by_index) == {"0", "1"}, [p["metadata"]["name"] for p in shares]
    assert by_index["0"]["metadata"]["uid"] == deleted["index_0_uid"]  # index 0 ran once, undisturbed
    assert by_index["0"]["metadata"]["annotations"].get(INDEX_FAILURES) == "0"
    assert by_index["1"]["metadata"]["uid"] != deleted["uid"]
    assert by_index["1"]["metadata"]["annotations"].get(INDEX_FAILURES) == "1"
    retried_log = kube_cluster.kubectl("logs", by_index["1"]["metadata"]["name"], "-n", namespace).stdout
    summary = re.search(r"(\d+) scenes? rendered, (\d+) cached", retried_log)  # the video's summary line
    assert summary, retried_log[-2000:]
    rendered, cached = map(int, summary.groups())  # its own share: drawn now, or kept from the deleted Pod
    weights = [len(str(scene["narration"])) for scene in SCENES]
    own = share_of(weights, 1, 2, round(sum(weights) * JOIN_WEIGHT["low"]))  # what renderer/shards.my_share gives
    assert cached >= 1 and rendered + cached == len(own), summary.group(0)
    jobs = _get(kube_cluster, namespace, "jobs", "-l", "videojob.dev/name=tides-two")["items"]
    assert [job["metadata"]["labels"].get("videojob.dev/step") for job in jobs] == ["shares"]  # no hand-over Job

    # The usage covers both Pods that finished: every scene counted once, drawn or kept from the cache.
    usage = fanned_status["usage"]
    assert usage["scenesRendered"] + usage["scenesCached"] == len(SCENES), usage
    assert usage["cpuSeconds"] > 0 and usage["peakMemoryBytes"] > 0, usage

    # The same video, decoded: streams, lengths, every frame and audio packet, the subtitles.
    assert _streams(fanned) == _streams(single)
    fanned_frames, single_frames = _frame_hashes(fanned, "v"), _frame_hashes(single, "v")
    # timestamps, durations and sizes of every frame: exact
    assert [line.rsplit(",", 1)[0] for line in fanned_frames] == [line.rsplit(",", 1)[0] for line in single_frames]
    if fanned_frames != single_frames:  # where and by how much, before failing
        apart = _frames_apart(fanned, single, _video_size(single))
        print(f"decoded frames apart (frame, levels, share of pixels): {apart}")
    assert fanned_frames == single_frames
    assert _frame_hashes(fanned, "a") == _frame_hashes(single, "a")
    assert fanned_status["output"]["durationSeconds"] == single_status["output"]["durationSeconds"]
    subtitles = [node_minio.client().get_object(s["output"]["bucket"], s["output"]["subtitles"]["vtt"]).read()
                 for s in (single_status, fanned_status)]  # fmt: skip
    assert subtitles[0] == subtitles[1]
    assert "reconciling VideoJob" not in operator.log(), "the operator hit an error on the way"

"""Scene fan-out as the operator plans and reports it (operator/fanout.py, and the reconciler's use of it)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from videojob.contract import ProgressEvent, ShareDone, Usage, encode_termination_message, parse_termination_message
from videojob.operator import fanout
from videojob.operator.builders import build_attempt_job, build_shares_job
from videojob.operator.cleanup import OutputCleaner
from videojob.operator.reconciler import Reconciler
from videojob.operator.settings import OperatorSettings
from videojob.operator.status import Observation, compute_status, timestamp
from videojob.operator.world import World
from videojob.spec import VideoJobSpec

from .test_reconciler_reacts import RecordingApi


def _storyboard(scenes: int) -> dict:
    return {"scenes": [{"template": "title", "title": f"Scene {n}", "narration": "Hello."} for n in range(scenes)]}


def _spec(**fields) -> VideoJobSpec:
    return VideoJobSpec.model_validate({"source": {"storyboard": _storyboard(24)}} | fields)


# --- how many Pods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenes", "quality", "pods"),
    [
        (3, "low", 1),  # a short video: a second Pod's start-up would cost more than it saves
        (12, "low", 2),
        (24, "low", 4),
        (24, "medium", 6),  # dearer scenes: fewer per Pod
        (24, "high", 8),  # and never more than AUTO_MAX_PODS
        (40, "high", 8),
    ],
)
def test_auto_picks_pods_from_the_scene_count_and_the_quality(scenes, quality, pods):
    assert fanout.auto_pods(scenes, quality) == pods
    spec = VideoJobSpec.model_validate({"source": {"storyboard": _storyboard(scenes)}, "quality": quality,
                                        "parallelism": "auto"})  # fmt: skip
    assert fanout.planned_pods(spec) == pods


def test_auto_estimates_the_scenes_of_a_lecture_and_of_a_prompt():
    lecture = "# Title\n\n" + "".join(f"## Part {n}\n\nText.\n\n- a point\n\n" for n in range(11))
    spec = VideoJobSpec.model_validate({"source": {"markdown": lecture}, "quality": "low", "parallelism": "auto"})
    assert fanout.estimated_scenes(spec) == 12  # every heading starts at least one scene
    assert fanout.planned_pods(spec) == 2
    prompt = VideoJobSpec.model_validate(
        {"source": {"prompt": "Explain tides to a child."}, "llm": {"provider": "openai"}, "durationSeconds": 300}
    )
    assert fanout.estimated_scenes(prompt) == 20  # about one scene per 15 s of narration


def test_a_number_is_taken_as_given_and_1_is_the_single_pod_render():
    assert fanout.planned_pods(_spec(parallelism=3)) == 3
    metadata = {"name": "lesson", "namespace": "team-a", "uid": "u-1"}
    source = {"source": {"storyboard": _storyboard(24)}}
    single = build_attempt_job({"metadata": metadata, "spec": source}, OperatorSettings())
    assert "completionMode" not in single["spec"] and fanout.step(single) is None
    fanned = build_attempt_job({"metadata": metadata, "spec": source | {"parallelism": 3}}, OperatorSettings())
    assert (fanned["spec"]["completionMode"], fanned["spec"]["completions"], fanout.step(fanned)) == (
        "Indexed",
        3,
        "shares",
    )


# --- one status from every Pod -------------------------------------------------------------


def _event(kube, phase, scene, scenes, storyboard=24, seconds=0, percent=None):
    fraction = (scene or 0) / scenes if scenes else 0
    return ProgressEvent(
        phase=phase,
        progress=percent if percent is not None else round(10 + 75 * fraction, 1),
        stage=f"Rendering scene {scene}/{scenes}",
        scene=scene,
        scenes=scenes,
        storyboardScenes=storyboard,
        time=kube.NOW + timedelta(seconds=seconds),
    )


def test_every_pods_finished_scenes_add_up_to_one_stage(kube):
    shares = [
        fanout.ShareSighting(0, "Running", _event(kube, "Rendering", 4, 8)),
        fanout.ShareSighting(1, "Running", _event(kube, "Rendering", 2, 8, seconds=2)),
        fanout.ShareSighting(2, "Running", _event(kube, "Rendering", 3, 8, seconds=1)),
    ]
    event = fanout.shares_progress(shares, pods=3)
    assert (event.phase, event.stage, event.scene, event.scenes) == (
        "Rendering",
        "Rendering scene 9/24 on 3 Pods",
        9,
        24,
    )
    assert event.progress == round(10 + 75 * 9 / 24, 1)
    assert event.time == kube.NOW + timedelta(seconds=2)  # the newest of them


def test_a_finished_index_counts_its_whole_share_and_a_narrating_one_none(kube):
    shares = [
        fanout.ShareSighting(0, "Succeeded", _event(kube, "Rendering", 8, 8)),
        fanout.ShareSighting(1, "Running", _event(kube, "Scripting", 5, 8)),  # narrating scene 5: nothing drawn yet
        fanout.ShareSighting(2, "Running", _event(kube, "Rendering", None, 8, percent=10 + 75 * 3 / 8)),
    ]
    assert fanout.shares_progress(shares, pods=3).stage == "Rendering scene 11/24 on 2 Pods"


def test_while_every_pod_narrates_the_stage_says_so(kube):
    shares = [fanout.ShareSighting(i, "Running", _event(kube, "Scripting", 1, 8, percent=2)) for i in range(3)]
    event = fanout.shares_progress(shares, pods=3)
    assert (event.phase, event.stage, event.progress) == ("Scripting", "Narrating on 3 Pods", 2)
    assert fanout.shares_progress([fanout.ShareSighting(0, "Pending", None)], pods=3) is None


def _shares_job(kube, succeeded=0, active=3, complete=False, attempt=1):
    videojob = kube.videojob(parallelism=3)
    job = build_shares_job(videojob, OperatorSettings(), pods=3, attempt=attempt)
    done = [kube.job_condition("SuccessCriteriaMet", "CompletionsReached"), kube.job_condition("Complete", "")]
    status = kube.job(active=active, succeeded=succeeded, conditions=done if complete else None)["status"]
    return videojob, job | {"status": status}


def _share_pod(kube, job, index, phase="Running", created="2026-11-21T10:00:03Z", suffix="x"):
    name = job["metadata"]["name"]
    pod = kube.pod(name=f"{name}-{index}-{suffix}", phase=phase, created=created, job_name=name)
    pod["metadata"]["labels"][fanout.COMPLETION_INDEX_LABEL] = str(index)
    if phase == "Succeeded":
        pod["status"]["containerStatuses"][0]["state"] = kube.terminated(0, "Completed")
    return pod


def test_the_videojob_status_says_which_scene_on_how_many_pods(kube):
    videojob, job = _shares_job(kube)
    pods = [_share_pod(kube, job, index) for index in range(3)]
    events = {pods[0]["metadata"]["uid"]: _event(kube, "Rendering", 4, 8), pods[1]["metadata"]["uid"]: None,
              pods[2]["metadata"]["uid"]: _event(kube, "Rendering", 5, 8)}  # fmt: skip
    seen = fanout.view(job, lambda j: pods, events.get)
    status = compute_status(videojob, Observation(now=kube.NOW, job=job, pods=seen.pods, progress=seen.progress))
    assert (status["phase"], status["stage"], status["progress"]) == ("Rendering", "Rendering scene 9/24 on 3 Pods", 38)


def test_a_retried_index_does_not_send_the_status_back_to_pending(kube):
    videojob, job = _shares_job(kube)
    failed = _share_pod(kube, job, 1, phase="Failed", suffix="a")
    failed["status"]["containerStatuses"][0]["state"] = kube.terminated(143)
    again = _share_pod(kube, job, 1, phase="Pending", created="2026-11-21T10:02:00Z", suffix="b")
    again["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
    pods = [_share_pod(kube, job, 0), failed, again, _share_pod(kube, job, 2)]
    events = {pods[0]["metadata"]["uid"]: _event(kube, "Rendering", 6, 8),
              failed["metadata"]["uid"]: _event(kube, "Rendering", 3, 8),  # its Pod is gone: counts no more
              pods[3]["metadata"]["uid"]: _event(kube, "Rendering", 2, 8)}  # fmt: skip
    seen = fanout.view(job, lambda j: pods, events.get)
    status = compute_status(videojob, Observation(now=kube.NOW, job=job, pods=seen.pods, progress=seen.progress))
    assert (status["phase"], status["stage"]) == ("Rendering", "Rendering scene 8/24 on 2 Pods")


def _reconciler():
    settings = OperatorSettings()
    api = RecordingApi()
    events: list = []
    return Reconciler(settings, api, OutputCleaner(settings), lambda body, *event: events.append(event)), api, events


def _joining(kube, phase, stage, percent):
    return ProgressEvent(phase=phase, progress=percent, stage=stage, storyboardScenes=24,
                         time=kube.NOW + timedelta(seconds=9))  # fmt: skip


def test_once_the_last_index_joins_the_video_the_status_says_assembling_and_never_goes_back(kube):
    videojob, job = _shares_job(kube, succeeded=2, active=1)
    pods = [_share_pod(kube, job, 0, phase="Succeeded"), _share_pod(kube, job, 1, phase="Succeeded"),
            _share_pod(kube, job, 2)]  # fmt: skip
    events = {pods[0]["metadata"]["uid"]: _event(kube, "Rendering", 8, 8),
              pods[1]["metadata"]["uid"]: _event(kube, "Rendering", 8, 8),
              pods[2]["metadata"]["uid"]: _event(kube, "Rendering", 8, 8)}  # fmt: skip
    seen = fanout.view(job, lambda j: pods, events.get)
    status = compute_status(videojob, Observation(now=kube.NOW, job=job, pods=seen.pods, progress=seen.progress))
    assert (status["phase"], status["stage"]) == ("Rendering", "Rendering scene 24/24 on 1 Pod")
    events[pods[2]["metadata"]["uid"]] = _joining(kube, "Assembling", "Assembling video", 85)
    seen = fanout.view(job, lambda j: pods, events.get)
    status = compute_status(videojob, Observation(now=kube.NOW, job=job, pods=seen.pods, progress=seen.progress))
    assert (status["phase"], status["stage"], status["progress"]) == ("Assembling", "Assembling video", 85)
    events[pods[2]["metadata"]["uid"]] = _joining(kube, "Uploading", "Uploading", 95)
    assert fanout.view(job, lambda j: pods, events.get).progress.phase == "Uploading"


def _done_share(kube, job, index, message):
    pod = _share_pod(kube, job, index, phase="Succeeded")
    pod["status"]["containerStatuses"][0]["state"] = kube.terminated(0, "Completed", message=message)
    pod["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"] = f"2026-11-21T10:03:0{index}Z"
    return pod


def _share_done(index, cpu, peak, rendered):
    usage = Usage(cpuSeconds=cpu, peakMemoryBytes=peak, scenesRendered=rendered, ttsCharacters=100)
    return encode_termination_message(ShareDone(index=index, shares=3, usage=usage))


def test_when_every_index_exited_the_videojob_succeeded_with_every_pods_usage_and_no_other_job(kube):
    videojob, job = _shares_job(kube, succeeded=2, active=1)  # the Job controller has not counted the last yet
    result = kube.result_message()
    pods = [_done_share(kube, job, 0, _share_done(0, 30.5, 700 << 20, 8)),
            _done_share(kube, job, 1, _share_done(1, 29.0, 900 << 20, 8)),
            _done_share(kube, job, 2, result)]  # fmt: skip
    reconciler, api, _ = _reconciler()
    uid = videojob["metadata"]["uid"]
    reconciler.bind(World(videojobs={uid: [videojob]}, jobs={uid: [job]}, pods={uid: pods}, priorities={}))

    asyncio.run(reconciler.reconcile(uid))

    assert [made for made in api.created if made["kind"] == "Job"] == []  # the last index joined: no hand-over
    status = api.status_patches[-1][1]
    assert (status["phase"], status["completionTime"]) == ("Succeeded", "2026-11-21T10:03:02Z")  # the last exit
    assembled = parse_termination_message(result).usage
    assert status["usage"]["cpuSeconds"] == round(30.5 + 29.0 + assembled.cpu_seconds, 2)
    assert status["usage"]["peakMemoryBytes"] == max(900 << 20, assembled.peak_memory_bytes)
    assert status["usage"]["scenesRendered"] == 16 + assembled.scenes_rendered
    assert status["usage"]["ttsCharacters"] == 200 + assembled.tts_characters


def test_each_pods_event_reaches_the_one_status_within_two_seconds(kube):
    videojob, job = _shares_job(kube)
    pods = [_share_pod(kube, job, index) for index in range(3)]
    reconciler, api, _ = _reconciler()
    uid = videojob["metadata"]["uid"]
    reconciler.bind(World(videojobs={uid: [videojob]}, jobs={uid: [job]}, pods={uid: pods}, priorities={}))

    async def main() -> list[float]:
        reconciler.start()
        await reconciler.reconcile(uid)
        lags = []
        for done, pod in enumerate(pods, start=1):  # each Pod in turn finishes its first scene
            sent = time.monotonic()
            if reconciler.board.record(uid, pod["metadata"]["uid"], _event(kube, "Rendering", 1, 8, seconds=done)):
                reconciler.kick(uid)
            wanted = f"Rendering scene {done}/24 on 3 Pods"
            while not any(patch.get("stage") == wanted for _, patch in api.status_patches):
                assert time.monotonic() - sent < 2, f"{wanted!r} not written within 2 s"
                await asyncio.sleep(0.01)
            lags.append(time.monotonic() - sent)
        await reconciler.close()
        return lags

    assert max(asyncio.run(main())) < 2


def test_the_pods_of_a_starting_fan_out_are_not_called_retries(kube):
    videojob, job = _shares_job(kube)
    pods = [_share_pod(kube, job, index, phase="Pending") for index in range(3)]
    for pod in pods:
        pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
    seen = fanout.view(job, lambda j: pods, lambda uid: None)
    status = compute_status(videojob, Observation(now=kube.NOW, job=job, pods=seen.pods, progress=seen.progress))
    assert (status["phase"], status["stage"], status["attempts"]) == ("Pending", "Starting the renderer Pod", 3)


def test_a_share_killed_for_memory_starts_the_next_attempt_as_a_fan_out_with_more_memory(kube):
    videojob, job = _shares_job(kube, active=0)
    job["status"] |= {"failed": 1, "conditions": [kube.job_condition("Failed", "PodFailurePolicy")]}
    job["status"]["startTime"] = timestamp(datetime.now(UTC) - timedelta(seconds=600))  # the reconcile reads the clock
    killed = _share_pod(kube, job, 1, phase="Failed")
    killed["status"]["containerStatuses"][0]["state"] = kube.terminated(137, "OOMKilled")
    reconciler, api, _ = _reconciler()
    uid = videojob["metadata"]["uid"]
    reconciler.bind(World(videojobs={uid: [videojob]}, jobs={uid: [job]}, pods={uid: [killed]}, priorities={}))

    asyncio.run(reconciler.reconcile(uid))

    (attempt_2,) = [made for made in api.created if made["kind"] == "Job"]
    assert attempt_2["metadata"]["name"] == job["metadata"]["name"].removesuffix("-1") + "-2"
    assert (fanout.step(attempt_2), attempt_2["spec"]["completions"]) == ("shares", 3)  # every index again, cached
    limits = attempt_2["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["memory"] == "3072Mi"  # the medium preset's 2Gi, grown by the default factor 1.5
    assert 2995 <= attempt_2["spec"]["activeDeadlineSeconds"] <= 3000  # what is left of the 3600 s


def test_the_videojob_is_not_succeeded_while_an_index_is_still_out_or_failed(kube):
    videojob, job = _shares_job(kube, succeeded=1, active=2)
    finished = _done_share(kube, job, 0, _share_done(0, 30.5, 700 << 20, 8))
    joined = _done_share(kube, job, 2, kube.result_message())
    assert status_of(kube, videojob, job, [finished, _share_pod(kube, job, 1), joined]) != "Succeeded"
    assert status_of(kube, videojob, job, [finished, joined]) != "Succeeded"  # index 1 not listed yet
    failed = _share_pod(kube, job, 1, phase="Failed")
    failed["status"]["containerStatuses"][0]["state"] = kube.terminated(75)
    assert status_of(kube, videojob, job, [finished, failed, joined]) != "Succeeded"  # it retries alone
    redone = _done_share(kube, job, 1, _share_done(1, 1.0, 1, 0))
    redone["metadata"]["creationTimestamp"] = "2026-11-21T10:05:00Z"
    assert status_of(kube, videojob, job, [finished, failed, redone, joined]) == "Succeeded"


def status_of(kube, videojob, job, pods):
    seen = fanout.view(job, lambda j: pods, lambda uid: None)
    return compute_status(videojob, Observation(now=kube.NOW, job=job, pods=seen.pods, progress=seen.progress))["phase"]

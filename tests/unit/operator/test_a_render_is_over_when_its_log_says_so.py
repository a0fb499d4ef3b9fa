"""The end of a render, read from the renderer's log before the kubelet reports its container over.

The renderer writes its Result (or a share's ShareDone) on its progress stream right after the
termination message. The kubelet shows the container terminated only at its next look (a 1 s
relist on a real node), so a user watching `kubectl wait --for=condition=Succeeded` learns
of the video up to a second sooner. A container already seen terminated is judged by its
termination state alone: a Result line from a renderer that then exited 1 is not a success.
"""

import asyncio
from datetime import timedelta

from videojob.contract import (
    ProgressEvent,
    Result,
    ShareDone,
    Usage,
    encode_termination_message,
    parse_end_line,
    parse_termination_message,
)
from videojob.operator import fanout
from videojob.operator.builders import build_shares_job
from videojob.operator.progress import ProgressBoard, follow, follow_until_exit
from videojob.operator.settings import OperatorSettings
from videojob.operator.status import Observation, compute_status


def _result(kube) -> Result:
    result = parse_termination_message(kube.result_message())
    assert isinstance(result, Result)
    return result


def _uploading(kube):
    return kube.progress(phase="Uploading", percent=100, stage="Done", eta=None)


def test_a_running_renderer_whose_log_said_its_result_makes_the_videojob_succeeded(kube):
    pod = kube.pod()  # its container still runs, as far as the kubelet has said
    said = {pod["metadata"]["uid"]: _result(kube)}
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[pod], progress=_uploading(kube), ends_logged=said)

    status = compute_status(kube.videojob(), seen)

    assert (status["phase"], status["progress"], status["output"]["sizeBytes"]) == ("Succeeded", 100, 1234567)
    assert status["usage"]["cpuSeconds"] == 301.5
    assert status["completionTime"] == "2026-11-21T10:30:00Z"  # when the operator read it

    exited = kube.pod(phase="Succeeded", state=kube.terminated(0, reason="Completed", message=kube.result_message()))
    later = compute_status(kube.videojob(status=status), Observation(now=kube.NOW + timedelta(seconds=1),
                           job=kube.job(active=1), pods=[exited], ends_logged=said))  # fmt: skip
    assert later == status  # the kubelet catching up changes nothing, completionTime included


def test_without_the_line_the_running_renderer_shows_its_last_stage(kube):
    seen = Observation(now=kube.NOW, job=kube.job(active=1), pods=[kube.pod()], progress=_uploading(kube))
    assert compute_status(kube.videojob(), seen)["phase"] == "Uploading"


def test_a_renderer_seen_exiting_1_after_its_result_line_is_not_a_success(kube):
    failed = kube.pod(phase="Failed", state=kube.terminated(1, message=kube.result_message()))
    said = {failed["metadata"]["uid"]: _result(kube)}
    seen = Observation(now=kube.NOW, job=kube.job(active=0, failed=1), pods=[failed], ends_logged=said)
    assert compute_status(kube.videojob(), seen)["phase"] != "Succeeded"


def test_once_called_succeeded_from_its_log_it_stays_so_when_the_renderer_then_exits_1(kube):
    running = kube.pod()
    said = {running["metadata"]["uid"]: _result(kube)}
    done = compute_status(kube.videojob(), Observation(now=kube.NOW, job=kube.job(active=1), pods=[running],
                                                        ends_logged=said))  # fmt: skip
    assert done["phase"] == "Succeeded"
    failed = kube.pod(phase="Failed", state=kube.terminated(1, message=kube.result_message()))
    retry = kube.pod(name="lesson-5b2d0e56-1-fghij", created="2026-11-21T10:03:30Z")  # the Job controller's next
    later = Observation(now=kube.NOW + timedelta(seconds=5), job=kube.job(active=1, failed=1), pods=[failed, retry],
                        ends_logged=said)  # fmt: skip
    after = compute_status(kube.videojob(status=done), later)
    assert (after["phase"], after["output"], after["completionTime"]) == (
        "Succeeded", done["output"], done["completionTime"])  # fmt: skip


def _share_pod(kube, job, index):
    name = job["metadata"]["name"]
    pod = kube.pod(name=f"{name}-{index}-x", job_name=name)
    pod["metadata"]["labels"][fanout.COMPLETION_INDEX_LABEL] = str(index)
    return pod


def test_a_fan_out_is_over_once_every_index_said_its_end_and_its_usage_adds_every_share(kube):
    videojob = kube.videojob(parallelism=2)
    job = build_shares_job(videojob, OperatorSettings(), pods=2, attempt=1) | {"status": kube.job(active=2)["status"]}
    pods = [_share_pod(kube, job, 0), _share_pod(kube, job, 1)]
    share = ShareDone(index=0, shares=2, usage=Usage(cpuSeconds=11.5, peakMemoryBytes=900 << 20, scenesRendered=5))
    said: dict = {pods[1]["metadata"]["uid"]: _result(kube)}

    waiting = compute_status(videojob, Observation(now=kube.NOW, job=job, pods=pods, ends_logged=said))
    assert waiting["phase"] != "Succeeded"  # index 0 has not said it is done

    said[pods[0]["metadata"]["uid"]] = share
    status = compute_status(videojob, Observation(now=kube.NOW, job=job, pods=pods, ends_logged=said))
    assert status["phase"] == "Succeeded"
    assert status["usage"]["cpuSeconds"] == round(301.5 + 11.5, 2)
    assert status["usage"]["scenesRendered"] == 4 + 5
    assert status["usage"]["peakMemoryBytes"] == 900 << 20


def test_the_log_line_carries_exactly_the_termination_message(kube):
    result = _result(kube)
    assert parse_end_line(encode_termination_message(result)) == result
    share = ShareDone(index=1, shares=3, usage=Usage(cpuSeconds=2.0))
    assert parse_end_line(encode_termination_message(share) + "\n") == share
    assert parse_end_line('{"videojob":"progress/v1","phase":"Rendering"}') is None
    assert parse_end_line("rendered s3://videos/x.mp4 result/v1") is None


def test_following_a_log_hands_over_the_end_line_and_a_replay_is_no_new_event(kube):
    progress_line = '{"videojob":"progress/v1","phase":"Uploading","progress":100.0,"stage":"Done",' \
                    '"time":"2026-11-21T10:29:59Z"}'  # fmt: skip
    end_line = kube.result_message()
    streams = [[progress_line, end_line], [progress_line, end_line]]  # the second: a reconnect's tail replayed
    board, ends = ProgressBoard(), []

    async def lines():
        for line in streams.pop(0) if streams else []:
            yield line

    def on_event(event):
        return board.record("vj", "pod", event)

    def on_end(end):
        ends.append(end)
        board.record_end("vj", "pod", end)

    seen = asyncio.run(follow_until_exit(lines, on_event, on_end))

    assert seen == 1  # the replayed lines are nothing new: the follow ended once the stream had nothing new
    assert ends == [_result(kube), _result(kube)]
    assert board.ends("vj") == {"pod": _result(kube)}
    assert board.record_end("vj", "pod", _result(kube)) is False  # known already: no second reconcile
    board.forget("vj")
    assert board.ends("vj") == {}


def test_a_follow_without_an_end_listener_reads_progress_as_before(kube):
    events: list[ProgressEvent] = []

    async def lines():
        yield kube.result_message()
        yield '{"videojob":"progress/v1","phase":"Rendering","progress":20.0,"stage":"Rendering scene 1/5",' \
              '"time":"2026-11-21T10:29:59Z"}'  # fmt: skip

    assert asyncio.run(follow(lines, events.append)) == 1
    assert [event.stage for event in events] == ["Rendering scene 1/5"]

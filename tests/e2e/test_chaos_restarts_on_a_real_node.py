"""Chaos on the real node: the API server (with etcd) and the kubelet restarted while VideoJobs render.

Nothing is played: the restarts stop the real processes and start them again with the same
ports, etcd data and certificates (``ControlPlane.restart_apiserver``, ``Node.restart_kubelet``),
as an upgrade or a crash loop would. The operator is never touched: it must reconnect by itself
(kopf's watches, its aiohttp log streams, the kubernetes client). The observer from the other
chaos tests records what the API server showed, so the counts come from the cluster.

A render in flight across a restart shows new progress within PROGRESS_BACK_SECONDS of the API
server answering again. It once seemed not to, in every quiet run. Mostly the observer's fault: the
operator had written progress within 0.4 s of the return (its log stream stays open through most of
the API server's graceful shutdown, and each progress line queues a status write at once, whatever
the failed writes' backoff), but the observer's poll, sent as the API server came back, hung for
7 s (its client retrying) until the next restart, which came 0.2 to 2 s after the return. Partly
the operator's: a log follow sent then could stay unanswered just as long, and its reconnects were
up to 10 s apart. The observer now tries each request once with a timeout, the next restart waits
for the window, and the operator times the log's answer and reconnects within 2 s.

The suite runs the short version; ``hack/chaos`` the full one (VIDEOJOB_CHAOS=full).
"""

from __future__ import annotations

import functools
import os
import random
import time

from support import wait_for
from videojob.limits import SCENES_MAX

from .test_chaos_on_a_real_node import FULL, RENDER_CAP, TERMINAL, Observed, Observer, Report, _create, _print

# Scenes per lecture: a render must outlast a restart (about 13 s even on a quiet machine) and the
# API server's return by PROGRESS_BACK_SECONDS; 6 scenes took about 8 s on quiet cores, 20 about
# 20 s, both ending before or just after the return. So the most a lecture may have (SCENES_MAX),
# and the restart comes once the narration's progress shows, not only once the drawing begins.
SECTIONS = SCENES_MAX
IN_FLIGHT = ("Scripting", "Rendering", "Assembling", "Uploading")
# A render in flight across a restart shows new progress within this after the API server is ready
# again (its log stream reopened, read, the status written, the observer's next poll); the next
# restart waits for it, so that there is a window to show it in.
PROGRESS_BACK_SECONDS = 5.0


def _followed(observed: Observed) -> bool:
    """In flight, with progress already read from its renderer's log."""
    return observed.phase in IN_FLIGHT and bool(observed.points) and observed.points[-1][2] > 0


def _moved_after(observed: Observed, when: float) -> float | None:
    """When the VideoJob's status first changed after ``when`` (the operator wrote it), if it did."""
    return next((at for at, _, _ in observed.points if at > when), None)


def _ended_at(observed: Observed) -> float:
    return next((at for at, phase, _ in observed.points if phase in TERMINAL), float("inf"))


def _progress_after(observed: Observed, when: float, within: float = float("inf")) -> float | None:
    """When the status first showed new render progress after ``when`` (up to ``within`` later), before the end:
    a log stream delivered it."""
    return next(
        (
            at
            for at, phase, progress in observed.points
            if when < at <= when + within and phase not in TERMINAL and progress > 0
        ),
        None,
    )


def _phase_once_rendering(observer: Observer, name: str) -> str | None:
    """The VideoJob's phase once it renders or has ended; None before."""
    phase = observer.seen[name].phase
    return phase if phase in ("Rendering", *TERMINAL) else None


def _assert_nothing_lost_or_doubled(observer: Observer, names: list[str], report: Report, operator) -> None:
    seen = observer.seen
    details = {name: (seen[name].phase, len(seen[name].job_uids), len(seen[name].pod_uids)) for name in names}
    assert report.lost == 0, f"{details}\noperator log tail:\n{operator.log_tail(60)}"
    assert report.duplicate_renders == 0, details
    backwards = {name: seen[name].backwards() for name in names if seen[name].backwards()}
    assert not backwards, backwards


def test_the_api_server_and_etcd_restarted_mid_render_lose_nothing_and_the_operator_reconnects(
    kube_cluster, namespace, node_operator, tmp_path
):
    steady_operator = node_operator(VIDEOJOB_MAX_CONCURRENT_RENDERS=str(RENDER_CAP))
    jobs, restarts = (10, 5) if FULL else (3, 2)
    names = [f"apirestart-{n:02d}" for n in range(jobs)]
    observer = Observer(kube_cluster, namespace)
    observer.start()
    _create(kube_cluster, namespace, names, sections=SECTIONS)
    report = Report("API server + etcd restarted", faults=0)
    rng = random.Random(os.environ.get("VIDEOJOB_CHAOS_SEED", "14"))
    operator_pid = steady_operator.pid
    injected: list[tuple[float, float, list[str]]] = []  # began, ready again, the VideoJobs rendering then
    deadline = time.monotonic() + (1500 if FULL else 720)
    try:
        while report.faults < restarts and not observer.finished(names) and time.monotonic() < deadline:
            if injected:  # the renders get their window to show progress before the next restart
                time.sleep(max(0.0, injected[-1][1] + PROGRESS_BACK_SECONDS - time.monotonic()))
            # Restart while something renders and its log is read: watches and log streams are open.
            wait_for(
                lambda: any(_followed(observer.seen[name]) for name in names) or observer.finished(names),
                max(1.0, deadline - time.monotonic()),
                "a VideoJob to show progress read from its log",
                interval=0.5,
            )
            time.sleep(rng.uniform(0.2, 2.0))
            # In flight: its Pod runs and its log is followed.
            rendering = [name for name in names if observer.seen[name].phase in IN_FLIGHT]
            began = time.monotonic()
            kube_cluster.restart_apiserver(with_etcd=True)
            report.faults += 1
            injected.append((began, time.monotonic(), rendering))
        wait_for(lambda: observer.finished(names), max(60.0, deadline - time.monotonic()), "every VideoJob to finish")
    except TimeoutError:
        pass  # counted as lost below
    finally:
        observer.stop()
    seen = observer.seen
    report.finished = sum(seen[name].phase == "Succeeded" for name in names)
    report.lost = jobs - report.finished
    report.duplicate_renders = sum(max(0, len(seen[name].job_uids) - 1) for name in names)
    # Recovery: from the restart to the first status the operator wrote afterwards, on any VideoJob.
    recoveries = []
    for began, _, _ in injected:
        moved = [at for name in names if (at := _moved_after(seen[name], began)) is not None]
        recoveries.append((min(moved) if moved else time.monotonic()) - began)
    report.longest_recovery_s = max(recoveries, default=0.0)
    _print(report, tmp_path)

    assert report.faults >= 1, "no restart happened while a VideoJob rendered"
    _assert_nothing_lost_or_doubled(observer, names, report, steady_operator)
    assert steady_operator.running() and steady_operator.pid == operator_pid, "the operator itself restarted"
    assert observer.most_running <= RENDER_CAP, f"{observer.most_running} renderer Pods ran at once"
    # The log streams came back: every VideoJob in flight across a restart, still rendering
    # PROGRESS_BACK_SECONDS after the API server was ready, showed new progress by then.
    through = [
        (name, began, ready)
        for began, ready, rendering in injected
        for name in rendering
        if _ended_at(seen[name]) > ready + PROGRESS_BACK_SECONDS
    ]
    for name, began, ready in through:
        shown = _progress_after(seen[name], ready)
        print(
            f"chaos: API server down {ready - began:.1f} s; {name}: progress shown "
            f"{'never' if shown is None else f'{shown - ready:+.1f} s'} after it was ready, "
            f"render ended {_ended_at(seen[name]) - ready:+.1f} s after it",
            flush=True,
        )
    assert through, f"no render outlasted a restart by {PROGRESS_BACK_SECONDS} s: {injected}"
    silent = {
        name: (f"API server ready at {ready:.1f}", [p for p in seen[name].points if p[0] > ready - 20])
        for name, _, ready in through
        if _progress_after(seen[name], ready, within=PROGRESS_BACK_SECONDS) is None
    }
    assert not silent, (
        f"no progress shown within {PROGRESS_BACK_SECONDS} s of the API server's return: {silent}\n"
        f"operator log tail:\n{steady_operator.log_tail(60)}"
    )


def test_the_kubelet_restarted_mid_render_keeps_the_pod_and_the_job_finishes_once(
    kube_cluster, kube_node, namespace, node_operator, tmp_path
):
    steady_operator = node_operator(VIDEOJOB_MAX_CONCURRENT_RENDERS=str(RENDER_CAP))
    jobs = 3 if FULL else 1
    names = [f"kubeletrestart-{n:02d}" for n in range(jobs)]
    observer = Observer(kube_cluster, namespace)
    observer.start()
    _create(kube_cluster, namespace, names, sections=4)
    report = Report("kubelet restarted", faults=0)
    restarted_at: dict[str, float] = {}
    try:
        for name in names:
            caught = wait_for(
                functools.partial(_phase_once_rendering, observer, name), 600, f"{name} to render", interval=0.5
            )
            if caught in TERMINAL:
                continue  # finished before the restart: no fault injected on it
            restarted_at[name] = time.monotonic()
            kube_node.restart_kubelet()
            report.faults += 1
        wait_for(lambda: observer.finished(names), 600, "every VideoJob to finish")
    except TimeoutError:
        pass
    finally:
        observer.stop()
    seen = observer.seen
    report.finished = sum(seen[name].phase == "Succeeded" for name in names)
    report.lost = jobs - report.finished
    report.duplicate_renders = sum(max(0, len(seen[name].job_uids) - 1) for name in names)
    recoveries = []  # from the restart to the next progress the operator read from the Pod's log
    for name, began in restarted_at.items():
        moved = _moved_after(seen[name], began)
        recoveries.append((moved if moved is not None else time.monotonic()) - began)
    report.longest_recovery_s = max(recoveries, default=0.0)
    _print(report, tmp_path)

    assert report.faults >= 1, "no VideoJob was caught rendering"
    _assert_nothing_lost_or_doubled(observer, names, report, steady_operator)
    for name in restarted_at:
        # The Pod kept running under the new kubelet (containerd owns it): the render was not redone.
        assert len(seen[name].pod_uids) == 1, seen[name]
        assert _progress_after(seen[name], restarted_at[name]) is not None, seen[name].points

"""Scene fan-out, planned: how many renderer Pods share a video, and what they show together.

Pure functions, no API calls. The design (the README's contract section has the whole of it):

* ``spec.parallelism`` 1 is one renderer Job of one Pod, as always.
* N > 1 is an **Indexed Job** of N completions (the *shares* Job): index *i* narrates and
  draws its share of the scenes into the shared S3 scene cache. ``backoffLimitPerIndex``
  retries a failed index alone, and finished scenes are cached, so a retried index redraws
  only what it had not finished.
* The **last index** assembles, in its own Pod: once its share is drawn it takes the other
  shares' scenes from the cache as they appear, then joins, muxes and uploads as a
  single-Pod render does, and writes the one :class:`~videojob.contract.Result`. No Pod is
  started to hand over to; every other index writes a ``share/v1`` message with its usage,
  and the status adds every Pod's figures up (:func:`.status.every_pods_usage`).
* An index that runs out of room ends the whole attempt, as a single Pod's does: an OOM kill
  fails the Job at once (podFailurePolicy), an eviction for scratch the operator ends
  (backoffLimit 0), so that no index is retried at the size it outgrew; the Job controller then
  stops the other indexes. Attempt N+1 is the same fan-out with the grown size (:mod:`.attempts`,
  read from the Pod that ran out, not the last to exit: :func:`.failures.ending_pod`), and every
  index finds in the cache the scenes any index of attempt N finished, so it loses at most each
  stopped index's scene in progress.
* ``auto`` picks N from the scene count and the quality: each Pod costs a start-up (the
  image, Python, Manim's import), so a Pod must get enough drawing to pay for it, and
  drawing costs more the higher the quality.

The operator does not parse the source (the renderer does), so for ``auto`` it estimates the
scene count: exact for a storyboard, the headings of a Markdown lecture (each starts at least
one scene), and the target duration over a typical scene's length for a prompt. The renderer
splits the real storyboard over however many indexes there are; an index with no scene exits
at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from videojob import limits as L
from videojob.contract import ProgressEvent
from videojob.quality import QualityName
from videojob.spec import VideoJobSpec

# Scenes one Pod should draw before another Pod pays for itself. Each extra Pod costs its
# start-up (Pod, Python, Manim's import: seconds); a scene costs more to draw the higher the
# quality. Estimates, to refine with benchmarks/fanout_lecture.py.
SCENES_PER_POD: Mapping[QualityName, int] = {"low": 6, "medium": 4, "high": 2}
AUTO_MAX_PODS = 8  # so that auto never takes every CPU of a small cluster for one video
SECONDS_PER_SCENE = 15  # a prompt's storyboard has about one scene per this much narration
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)

STEP_LABEL = "videojob.dev/step"
STEP_SHARES = "shares"  # the Indexed Job of a fanned-out render
# An operator upgrade's gap: a shares Job started by an earlier version whose renderer left the join to
# an assembly Job "<shares Job>a" of one Pod (status.shares_left_unjoined tells it; builders makes it).
STEP_ASSEMBLY = "assembly"
ASSEMBLY_SUFFIX = "a"
COMPLETION_INDEX_LABEL = "batch.kubernetes.io/job-completion-index"

# The VideoJob's progress while the shares are drawn: the same span as a single Pod's
# (renderer/progress.py), so the figure only grows when the last index goes on to assemble.
RENDERING_SPAN = (10.0, 85.0)
JOINING_PHASES = ("Assembling", "Uploading")  # the last index's phases once every scene is in


def estimated_scenes(spec: VideoJobSpec) -> int:
    """How many scenes the storyboard will have, as far as the operator can tell from the spec."""
    source = spec.source
    if source.storyboard is not None:
        return max(1, len(source.storyboard.scenes))
    if source.markdown is not None:
        return max(1, len(_HEADING.findall(source.markdown)))
    return max(1, math.ceil(spec.duration_seconds / SECONDS_PER_SCENE))


def auto_pods(scenes: int, quality: QualityName) -> int:
    """The Pods ``auto`` picks for this many scenes at this quality: 1 until a second Pod pays for itself."""
    return max(L.PARALLELISM_MIN, min(AUTO_MAX_PODS, scenes // SCENES_PER_POD[quality]))


def planned_pods(spec: VideoJobSpec) -> int:
    """How many renderer Pods draw this VideoJob's scenes (1: today's single-Pod render)."""
    if spec.parallelism == L.PARALLELISM_AUTO:
        return auto_pods(estimated_scenes(spec), spec.quality)
    return int(spec.parallelism)


# --- the Jobs of a fan-out, as the operator finds them --------------------------------------


def step(job: Mapping[str, Any] | None) -> str | None:
    """Which step of a fan-out this Job is (None: a single-Pod render)."""
    return ((job or {}).get("metadata") or {}).get("labels", {}).get(STEP_LABEL)


def completion_index(pod: Mapping[str, Any]) -> int | None:
    value = (pod["metadata"].get("labels") or {}).get(COMPLETION_INDEX_LABEL)
    return int(value) if value is not None and value.isdigit() else None


# --- progress of every Pod, as one status --------------------------------------------------


@dataclass(frozen=True)
class ShareSighting:
    """What the operator knows of one index: its newest Pod's phase and newest progress event."""

    index: int
    pod_phase: str | None
    event: ProgressEvent | None


def _scenes_done(share: ShareSighting) -> int:
    """Scenes this index has finished (drawn, or found in the cache)."""
    event = share.event
    if event is None:
        return 0
    if share.pod_phase == "Succeeded":
        return event.scenes or 0  # its last event counts its whole share
    if event.phase != "Rendering":
        return 0
    if event.scene is not None:
        return event.scene
    low, high = RENDERING_SPAN  # "Rendering 5 of 8 scenes (3 cached)" says how many only as a fraction
    return round((event.progress - low) / (high - low) * (event.scenes or 0))


def shares_progress(shares: Sequence[ShareSighting], pods: int) -> ProgressEvent | None:
    """One progress event for the VideoJob from every index's newest event.

    ``pods``: the Job's completions. "Rendering scene 9/24 on 3 Pods" counts the scenes
    finished (drawn or cached) over all indexes; the total is the storyboard's, which every
    share's events carry. None until some index has reported.
    """
    events = [share.event for share in shares if share.event is not None]
    if not events:
        return None
    last = next((share for share in shares if share.index == pods - 1), None)
    if last is not None and last.event is not None and last.event.phase in JOINING_PHASES:
        return last.event  # the last index joins the video: its own words from here on
    total = next((event.storyboard_scenes for event in events if event.storyboard_scenes), None)
    done = sum(_scenes_done(share) for share in shares)
    running = sum(1 for share in shares if share.pod_phase == "Running")
    on = f"on {running} Pod{'' if running == 1 else 's'}" if running else f"{pods} Pods done"
    newest = max(events, key=lambda event: event.time)
    if all(event.phase == "Scripting" for event in events) or total is None:
        progress = min(event.progress for event in events)
        return ProgressEvent(phase="Scripting", progress=progress, stage=f"Narrating {on}", time=newest.time)
    low, high = RENDERING_SPAN
    fraction = min(1.0, done / total)
    return ProgressEvent(
        phase="Rendering",
        progress=round(low + (high - low) * fraction, 1),
        stage=f"Rendering scene {done}/{total} {on}",
        scene=min(done, total) or None,
        scenes=total,
        time=newest.time,
    )


# --- what the status of a fanned-out render is read from ------------------------------------


@dataclass(frozen=True)
class FanOutView:
    """The Pods and the one progress event the status of a fanned-out render is computed from."""

    pods: list[Mapping[str, Any]]
    progress: ProgressEvent | None


def _phase(pod: Mapping[str, Any]) -> str | None:
    return (pod.get("status") or {}).get("phase")


def _by_age(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(pods, key=lambda pod: (pod["metadata"].get("creationTimestamp") or "", pod["metadata"]["name"]))


def _starting_normally(pod: Mapping[str, Any]) -> bool:
    """Pending only while its container is created: not unschedulable, not stuck on its image (those show)."""
    status = pod.get("status") or {}
    if status.get("phase") not in (None, "Pending"):
        return False
    if any(c.get("type") == "PodScheduled" and c.get("status") == "False" for c in status.get("conditions") or []):
        return False
    waiting = [(c.get("state") or {}).get("waiting") for c in status.get("containerStatuses") or []]
    return all(w is None or w.get("reason") in (None, "ContainerCreating", "PodInitializing") for w in waiting)


def share_sightings(
    pods: Sequence[Mapping[str, Any]], event_of: Callable[[str], ProgressEvent | None]
) -> list[ShareSighting]:
    """Each index's newest Pod (a retried index has several) and its newest event."""
    newest: dict[int, Mapping[str, Any]] = {}
    for pod in _by_age(pods):
        index = completion_index(pod)
        if index is not None:
            newest[index] = pod
    return [
        ShareSighting(index, _phase(pod), event_of(pod["metadata"].get("uid") or ""))
        for index, pod in sorted(newest.items())
    ]


def view(
    job: Mapping[str, Any] | None,
    pods_of: Callable[[Mapping[str, Any]], Sequence[Mapping[str, Any]]],
    event_of: Callable[[str], ProgressEvent | None],
) -> FanOutView | None:
    """What the status of ``job`` is read from when it is a shares Job; None for a single-Pod render.

    Its Pods, and one event adding up every index's until the last index joins the video
    (then its own events). While some index runs, a retried index's new Pod that is only
    starting is left out, so that the status does not go back to Pending.
    """
    if job is None or step(job) != STEP_SHARES:
        return None
    share_pods = _by_age(pods_of(job))
    completions = int((job.get("spec") or {}).get("completions") or 1)
    rendering = shares_progress(share_sightings(share_pods, event_of), completions)
    if any(_phase(pod) == "Running" for pod in share_pods):
        share_pods = [pod for pod in share_pods if not _starting_normally(pod)]
    return FanOutView(share_pods, rendering)

"""How many of the operator's render slots a VideoJob takes: one per renderer Pod it runs at once.

``VIDEOJOB_MAX_CONCURRENT_RENDERS`` bounds renderer Pods (the CPU and memory they hold in
the cluster), so a fan-out of N Pods takes N slots, not one. The rules, all pure:

* A new attempt runs :func:`pods_at_once` Pods: its planned fan-out (``spec.parallelism``,
  ``auto`` resolved as :mod:`.fanout` does), **lowered to the cap** when it asks for more
  than the whole cap. It then waits like any other VideoJob until every slot is free,
  runs on that many Pods (the renderer splits the storyboard over however many there
  are), and an Event says so (:func:`lowered_note`). It is never starved and never over
  the cap.
* A VideoJob with ``spec.queueName`` is Kueue's: Kueue's quota is its cap, so its fan-out
  is not lowered and it takes none of the operator's slots.
* A running Job holds :func:`pods_held`: the indexes it has not finished (a finished
  index's Pod never runs again), so a fan-out gives its slots back as its shares end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from videojob import limits as L
from videojob.spec import VideoJobSpec

from .fanout import AUTO_MAX_PODS, planned_pods

CAP_SETTING = "VIDEOJOB_MAX_CONCURRENT_RENDERS"


def pods_at_once(spec: VideoJobSpec, cap: int) -> int:
    """The renderer Pods a new attempt of this VideoJob runs at once (and the render slots it takes)."""
    planned = planned_pods(spec)
    return planned if spec.queue_name else min(planned, cap)


def lowered_note(spec: VideoJobSpec, cap: int) -> str | None:
    """What the VideoJob's Event says when its fan-out was lowered to the cap; None when it was not."""
    planned = planned_pods(spec)
    if spec.queue_name or planned <= cap:
        return None
    asked = f"spec.parallelism {spec.parallelism}" + (f" ({planned} Pods)" if spec.parallelism == "auto" else "")
    return (
        f"{asked} is more than the operator's {cap} render slot(s) ({CAP_SETTING}): it renders on {cap} Pods, "
        f"every slot, which it waited for; raise {CAP_SETTING} or lower spec.parallelism to change it"
    )


def raw_pods_at_once(spec: Mapping[str, Any], cap: int) -> int:
    """The slots a VideoJob the operator admits will take, from its spec as stored (a dict): :func:`pods_at_once`,
    parsing the spec only for ``auto``; 1 for a spec that does not parse (it fails at once)."""
    parallelism = spec.get("parallelism", L.PARALLELISM_MIN)
    if isinstance(parallelism, int):
        return max(L.PARALLELISM_MIN, min(parallelism, cap))
    try:
        return pods_at_once(VideoJobSpec.model_validate(spec), cap)
    except ValidationError:
        return L.PARALLELISM_MIN


def most_pods(spec: Mapping[str, Any]) -> int:
    """The most Pods any Job of this spec can run at once, without parsing it: a quick upper bound."""
    parallelism = spec.get("parallelism", L.PARALLELISM_MIN)
    if isinstance(parallelism, int):
        return max(L.PARALLELISM_MIN, parallelism)
    return AUTO_MAX_PODS if parallelism == L.PARALLELISM_AUTO else L.PARALLELISM_MAX


def pods_held(job: Mapping[str, Any]) -> int:
    """The render slots an unfinished, unsuspended Job holds: its indexes not yet succeeded (at least 1)."""
    completions = int((job.get("spec") or {}).get("completions") or 1)
    succeeded = int((job.get("status") or {}).get("succeeded") or 0)
    return max(1, completions - succeeded)

"""The scene cache's retention: the operator sweeps ``s3://BUCKET/cache/`` and removes what no render uses.

The renderer keeps ``cache/<kind>/<key>/`` entries (``renderer/cache.py``): ``scenes`` and
``videos``, each a few files and a manifest written last, and ``spoken``, the speech a fan-out's
share Pods hand to the assembling Pod (``renderer/join_ahead.py``). Without this module the
bucket only grows. With ``VIDEOJOB_CACHE_RETENTION`` (0: kept for ever, the default):

- a scene or video entry is removed once its newest object is older than the retention. A render
  that uses an entry first copies its manifest onto itself (a new LastModified), so "newest object"
  is "last written or used";
- a ``spoken`` entry is removed at the first sweep after its scene is cached (the assembling Pod
  looks for the scene first, so nothing reads the speech any more), else once older than
  :data:`SPOKEN_RETENTION_SECONDS` (or the retention, if shorter): only the fan-out running now
  reads it, and an announcement removed early costs that Pod a head start, never a different video.

With a retention of 0 nothing is swept, ``spoken/`` included: the cache as it always was, and an
operator that needs no S3 keys of its own.

Why the operator sweeps rather than setting an S3 lifecycle rule on the bucket: a rule's expiration
counts whole days from an object's creation, so it cannot tell an entry used an hour ago from one
nobody has read since it was written (unless every hit rewrote the whole entry), nor honour hours;
it expires object by object, so a manifest can outlive its files; and it is the bucket's single
lifecycle configuration, shared with the user's own rules, which the operator would have to read,
merge and write back (racing anyone else who edits them) with a permission it otherwise never needs.
A sweep needs only list and delete, on any S3, and reads nothing outside the cache prefix.

What keeps a sweep from breaking a render: the retention is at least
:data:`~videojob.limits.CACHE_RETENTION_MIN_SECONDS`, far longer than a render holds an entry
between marking it used and reading it, or between its first file and its manifest; an entry's
manifest is removed before its files (a reader that comes late finds no entry, not a manifest
without files); and a render that still meets a half-removed entry draws that scene again.

What a sweep costs: one listing of the prefix (1,000 keys a request) and, per 1,000 keys removed, two
multi-object deletes (manifests first). It runs in a thread, never on the event loop, and holds one
entry at a time plus the keys of the cached scenes (for the ``spoken`` rule): the listing comes in key
order, so an entry's objects come together, and ``scenes/`` before ``spoken/``.
``benchmarks/cache_sweep.py`` measures it at 10,000 and 100,000 objects.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from minio import Minio
from minio.deleteobjects import DeleteObject

from videojob.s3 import minio_client

from .settings import OperatorSettings

log = logging.getLogger(__name__)

CACHE_PREFIX = "cache/"  # the renderer's default cache beside an S3 output: s3://BUCKET/cache (renderer/config.py)
KEPT_KINDS = ("scenes", "videos")  # renderer/cache.py
SPOKEN = "spoken"  # renderer/join_ahead.py
MANIFEST = "manifest.json"  # written last by the renderer: what makes an entry exist
SPOKEN_RETENTION_SECONDS = 3600.0
DELETE_BATCH = 1000  # keys in one multi-object delete: S3's own limit
# An entry is cache/<kind>/<64 hex>/<file>; anything else under the prefix is not ours to judge.
_ENTRY_OBJECT = re.compile(r"^(?P<kind>scenes|videos|spoken)/(?P<key>[0-9a-f]{64})/[^/]+$")


@dataclass
class Entry:
    """One cache entry as listed: its objects and when the newest of them was written or used."""

    kind: str
    key: str
    names: list[str] = field(default_factory=list)
    newest: float = 0.0
    complete: bool = False  # its manifest is there


def entries(objects: Iterable[tuple[str, float]], prefix: str = CACHE_PREFIX) -> Iterator[Entry]:
    """The entries of a listing of ``(name, last modified)`` in key order; objects outside the layout skipped."""
    current: Entry | None = None
    for name, modified in objects:
        match = _ENTRY_OBJECT.match(name.removeprefix(prefix)) if name.startswith(prefix) else None
        if match is None:
            continue
        kind, key = match["kind"], match["key"]
        if current is None or (current.kind, current.key) != (kind, key):
            if current is not None:
                yield current
            current = Entry(kind, key)
        current.names.append(name)
        current.newest = max(current.newest, modified)
        current.complete = current.complete or name.endswith(f"/{MANIFEST}")
    if current is not None:
        yield current


def expired(entry: Entry, now: float, retention: float, cached_scenes: set[str]) -> bool:
    """Whether the sweep removes ``entry`` (see the module docstring); ``cached_scenes``: keys of scene
    entries that are complete and stay."""
    age = now - entry.newest
    if entry.kind == SPOKEN:
        return entry.key in cached_scenes or age > min(retention, SPOKEN_RETENTION_SECONDS)
    return age > retention


def sweep_interval(retention: float) -> float:
    """How often to sweep: a tenth of the retention, at least a minute, at most an hour apart."""
    return min(max(retention / 10, 60.0), 3600.0)


@dataclass(frozen=True)
class SweepReport:
    listed: int  # objects under the prefix
    entries: int
    removed_entries: int
    removed_objects: int
    failed_objects: int  # removals S3 refused; tried again at the next sweep
    seconds: float
    cpu_seconds: float  # this thread's, the sweep's own work


class CacheSweeper:
    """Removes the cache entries of one bucket that are past their retention (see the module docstring)."""

    def __init__(
        self,
        client: Minio,
        bucket: str,
        retention_seconds: float,
        *,
        prefix: str = CACHE_PREFIX,
    ) -> None:
        if retention_seconds <= 0:
            raise ValueError("a sweeper needs a retention above 0 (0 keeps the cache: start no sweeper)")
        self._client, self._bucket, self._prefix = client, bucket, prefix
        self._retention = retention_seconds

    def sweep(self) -> SweepReport:
        """One pass over the prefix (blocking: run it in a thread)."""
        started, cpu_started = time.monotonic(), time.thread_time()
        now = time.time()  # S3's LastModified is wall-clock time; the retention's minimum dwarfs any skew
        counts = {"listed": 0, "entries": 0, "removed_entries": 0, "removed_objects": 0, "failed_objects": 0}
        cached_scenes: set[str] = set()
        doomed: list[Entry] = []
        doomed_objects = 0

        def listing() -> Iterator[tuple[str, float]]:
            for item in self._client.list_objects(self._bucket, prefix=self._prefix, recursive=True):
                counts["listed"] += 1
                modified = item.last_modified.timestamp() if item.last_modified else now
                yield item.object_name or "", modified

        for entry in entries(listing(), self._prefix):
            counts["entries"] += 1
            if expired(entry, now, self._retention, cached_scenes):
                doomed.append(entry)
                doomed_objects += len(entry.names)
                if doomed_objects >= DELETE_BATCH:
                    self._remove(doomed, counts)
                    doomed, doomed_objects = [], 0
            elif entry.kind == "scenes" and entry.complete:
                cached_scenes.add(entry.key)
        self._remove(doomed, counts)
        return SweepReport(**counts, seconds=time.monotonic() - started, cpu_seconds=time.thread_time() - cpu_started)

    def _remove(self, doomed: list[Entry], counts: dict[str, int]) -> None:
        if not doomed:
            return
        names = [name for entry in doomed for name in entry.names]
        manifests = [name for name in names if name.endswith(f"/{MANIFEST}")]
        files = [name for name in names if not name.endswith(f"/{MANIFEST}")]
        failed = 0
        for group in (manifests, files):  # two requests: every manifest is gone before any file goes
            if group:
                for error in self._client.remove_objects(self._bucket, (DeleteObject(name) for name in group)):
                    failed += 1
                    log.warning("cache sweep: could not remove s3://%s/%s: %s", self._bucket, error.name, error.message)
        counts["removed_entries"] += len(doomed)
        counts["removed_objects"] += len(names) - failed
        counts["failed_objects"] += failed

    async def run(self, interval: float) -> None:
        """Sweep now and then every ``interval`` seconds until cancelled; a failed sweep is tried at the next."""
        while True:
            try:
                report = await asyncio.to_thread(self.sweep)
            except Exception as error:  # S3 down, a refused listing...: the next sweep tries again
                log.warning(
                    "cache sweep of s3://%s/%s failed, tried again in %.0fs: %s",
                    self._bucket,
                    self._prefix,
                    interval,
                    error,
                )
            else:
                log.info(
                    "cache sweep of s3://%s/%s: %d entries (%d objects) in %.1fs (%.2f CPU s), removed %d entries "
                    "(%d objects)%s",
                    self._bucket,
                    self._prefix,
                    report.entries,
                    report.listed,
                    report.seconds,
                    report.cpu_seconds,
                    report.removed_entries,
                    report.removed_objects,
                    f", {report.failed_objects} refused" if report.failed_objects else "",
                )
            await asyncio.sleep(interval)


def sweeper_for(settings: OperatorSettings) -> CacheSweeper | None:
    """The sweeper of the operator's bucket; None when the retention is 0 (the cache is kept)."""
    if not settings.cache_retention:
        return None
    assert settings.s3_access_key is not None and settings.s3_secret_key is not None, "the settings require them"
    client = minio_client(
        settings.s3_endpoint, settings.s3_access_key.get_secret_value(), settings.s3_secret_key.get_secret_value()
    )
    return CacheSweeper(client, settings.s3_bucket, settings.cache_retention)

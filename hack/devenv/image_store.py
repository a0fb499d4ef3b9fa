"""The local image cache: content-addressed docker-archive tars, and the steps that make them.

Every image is a ``docker-archive`` tar in ``$VIDEOJOB_TOOLS_CACHE/images/`` named by a hash
of everything that goes into it (``digest``), so an unchanged image is never rebuilt; a build
holds a per-name lock, since test sessions and ``hack/images/build`` may race. Images that
need no builder (pause, MinIO, the Debian bases) are written here by hand as one layer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from videojob_devenv import tools

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RECIPE_VERSION = "1"  # bump to rebuild every image after changing how they are made


class ImageError(RuntimeError):
    """An image could not be built; the message says which step failed and shows its output."""


@dataclasses.dataclass(frozen=True)
class Image:
    name: str  # localhost/videojob-base
    tag: str  # the content hash
    archive: Path  # docker-archive tar
    built_in: float | None = None  # seconds, None when it came from the cache

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def size(self) -> int:
        return self.archive.stat().st_size

    def config(self) -> dict:
        """The image's configuration from its archive: ``config`` (User, Env...) and ``rootfs.diff_ids``."""
        with tarfile.open(self.archive) as archive:
            manifest = archive.extractfile("manifest.json")
            assert manifest is not None
            config = archive.extractfile(json.load(manifest)[0]["Config"])
            assert config is not None
            return json.load(config)

    def layer_ids(self) -> list[str]:
        """Its layers' content digests, base first: equal digests are the same layer."""
        return self.config()["rootfs"]["diff_ids"]


def images_dir() -> Path:
    return tools.cache_root() / "images"


def digest(*parts: bytes | str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()[:16]


def run_step(argv: list[str], *, what: str, cwd: Path | None = None, log: Path | None = None) -> str:
    """Run a build step; with ``log``, its output goes there as it comes (`tail -f` a long build)."""
    if log is None:
        completed = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        output = completed.stdout + completed.stderr
    else:
        with log.open("w") as stream:
            completed = subprocess.run(argv, cwd=cwd, stdout=stream, stderr=subprocess.STDOUT, text=True)
        output = log.read_text(errors="replace")
    if completed.returncode != 0:
        tail = "\n".join("    " + line for line in output.splitlines()[-25:])
        raise ImageError(f"{what} failed (exit {completed.returncode}): {' '.join(argv[:3])} ...\n{tail}")
    return completed.stdout or ""


@contextlib.contextmanager
def exclusive(name: str) -> Iterator[None]:
    """One build of an image at a time on this machine (test sessions and hack/images/build may race)."""
    images_dir().mkdir(parents=True, exist_ok=True)
    with (images_dir() / f".{name.split('/')[-1]}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def tool_version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        raise ImageError(
            f"{argv[0]} is not installed; run hack/bootstrap (it installs hack/apt-packages.txt)"
        ) from None


def archive_path(ref: str) -> Path:
    """Where the archive of ``localhost/<name>:<tag>`` lives in the cache."""
    name, tag = ref.rsplit(":", 1)
    return images_dir() / f"{name.split('/')[-1]}-{tag}.tar"


def cached(name: str, tag: str) -> Image | None:
    archive = archive_path(f"{name}:{tag}")
    return Image(name, tag, archive) if archive.exists() else None


def built(image: Image, began: float) -> Image:
    """The image just built; older archives of the same name go (nothing refers to them again)."""
    for old in images_dir().glob(f"{image.name.split('/')[-1]}-*.tar"):
        if old != image.archive and len(old.stem) == len(image.archive.stem):
            old.unlink()
    return dataclasses.replace(image, built_in=time.monotonic() - began)


# --- docker-archive, written by hand for images that need no builder ------------------
def write_docker_archive(
    out: Path,
    ref: str,
    layer: Path,
    *,
    entrypoint: list[str] | None = None,
    cmd: list[str] | None = None,
    user: str | None = None,
    env: dict[str, str] | None = None,
    created_by: str,
) -> None:
    """One-layer image in the format `ctr images import` and `buildah pull docker-archive:` read."""
    hasher = hashlib.sha256()
    with layer.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    diff_id = hasher.hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": [
                    f"{key}={value}" for key, value in {"PATH": DEFAULT_PATH, "LANG": "C.UTF-8", **(env or {})}.items()
                ],
                "Entrypoint": entrypoint,
                "Cmd": cmd,
                "WorkingDir": "/",
                **({"User": user} if user else {}),
            },
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
            "history": [{"created_by": created_by}],
        },
        sort_keys=True,
    ).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        [{"Config": f"{config_id}.json", "RepoTags": [ref], "Layers": [f"{diff_id}/layer.tar"]}]
    ).encode()
    partial = out.with_suffix(".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
        archive.add(layer, arcname=f"{diff_id}/layer.tar")
        for name, data in ((f"{config_id}.json", config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    partial.rename(out)


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A work directory that is removed only once nothing is mounted below it.

    debootstrap mounts /proc (and may bind-mount /dev) inside the root it builds; if it
    dies half-way those mounts stay, and deleting the tree would reach into the host's.
    """
    images_dir().mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=images_dir()))
    try:
        yield directory
    finally:
        from videojob_devenv.nodehost import unmount_under

        unmount_under(directory)
        shutil.rmtree(directory)


def tar_directory(root: Path, out: Path) -> None:
    run_step(
        [
            "tar",
            "--numeric-owner",
            "--xattrs",
            "--sort=name",
            "--one-file-system",
            "-C",
            str(root),
            "-cf",
            str(out),
            ".",
        ],
        what="tar of the root filesystem",
    )

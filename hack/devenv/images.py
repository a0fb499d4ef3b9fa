"""Container images without a registry: built here, cached by content, loaded into the node.

- ``pause_image()``: the Pods' sandbox process, a static C binary (hack/images/pause.c).
- ``base_image()``: a Debian bookworm root filesystem from ``debootstrap --variant=minbase``
  plus Python 3.11, standing in for ``python:3.11-slim``.
- ``dockerfile_image()``: any Dockerfile built on top of the base with buildah, the base
  passed as the ``BASE_IMAGE`` build argument (Dockerfile.renderer, test images).

Each image is a ``docker-archive`` tar in ``$VIDEOJOB_TOOLS_CACHE/images/`` named by a hash
of everything that goes into it, so an unchanged image is never rebuilt. The node
imports the archives into containerd's ``k8s.io`` namespace; Pods refer to them as
``localhost/<name>:<hash>`` with ``imagePullPolicy: IfNotPresent``.

    hack/images/build [pause] [base] [renderer]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from videojob_devenv import REPO_ROOT, tools

PAUSE_SOURCE = REPO_ROOT / "hack" / "images" / "pause.c"
RECIPE_VERSION = "1"  # bump to rebuild every image after changing how they are made
SUITE = "bookworm"
# Python like python:3.11-slim: `python` and `pip` on PATH, pip free to install system-wide.
BASE_PACKAGES = ("python3", "python3-pip", "python-is-python3", "ca-certificates")
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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


def images_dir() -> Path:
    return tools.cache_root() / "images"


def _digest(*parts: bytes | str) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()[:16]


def _run(argv: list[str], *, what: str, cwd: Path | None = None, log: Path | None = None) -> str:
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
def _exclusive(name: str) -> Iterator[None]:
    """One build of an image at a time on this machine (test sessions and hack/images/build may race)."""
    images_dir().mkdir(parents=True, exist_ok=True)
    with (images_dir() / f".{name.split('/')[-1]}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _tool_version(argv: list[str]) -> str:
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


def _cached(name: str, tag: str) -> Image | None:
    archive = archive_path(f"{name}:{tag}")
    return Image(name, tag, archive) if archive.exists() else None


def _built(image: Image, began: float) -> Image:
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
                "Env": [f"PATH={DEFAULT_PATH}", "LANG=C.UTF-8"],
                "Entrypoint": entrypoint,
                "Cmd": cmd,
                "WorkingDir": "/",
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
            archive.addfile(info, _bytes_io(data))
    partial.rename(out)


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


@contextlib.contextmanager
def _scratch(prefix: str) -> Iterator[Path]:
    """A work directory that is removed only once nothing is mounted below it.

    debootstrap mounts /proc (and may bind-mount /dev) inside the root it builds; if it
    dies half-way those mounts stay, and deleting the tree would reach into the host's.
    """
    images_dir().mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=images_dir()))
    try:
        yield scratch
    finally:
        from videojob_devenv.nodehost import unmount_under

        unmount_under(scratch)
        shutil.rmtree(scratch)


def _tar_directory(root: Path, out: Path) -> None:
    _run(
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


# --- pause ---------------------------------------------------------------------
def pause_image() -> Image:
    source = PAUSE_SOURCE.read_text()
    tag = _digest(RECIPE_VERSION, source, _tool_version(["gcc", "--version"]))
    name = "localhost/videojob-pause"
    with _exclusive(name):
        return _cached(name, tag) or _build_pause(name, tag)


def _build_pause(name: str, tag: str) -> Image:
    began = time.monotonic()
    images_dir().mkdir(parents=True, exist_ok=True)
    with _scratch("pause-") as scratch:
        root = Path(scratch, "root")
        root.mkdir()
        _run(
            ["gcc", "-static", "-Os", "-s", "-o", str(root / "pause"), str(PAUSE_SOURCE)],
            what="compiling the pause binary (needs gcc and libc6-dev)",
        )
        _tar_directory(root, Path(scratch, "layer.tar"))
        image = Image(name, tag, images_dir() / f"videojob-pause-{tag}.tar")
        write_docker_archive(
            image.archive,
            image.ref,
            Path(scratch, "layer.tar"),
            entrypoint=["/pause"],
            created_by="gcc -static hack/images/pause.c",
        )
    return _built(image, began)


# --- base ----------------------------------------------------------------------
def debian_mirror() -> str:
    """The mirror apt already uses on this machine (VIDEOJOB_DEBIAN_MIRROR overrides)."""
    if explicit := os.environ.get("VIDEOJOB_DEBIAN_MIRROR"):
        return explicit
    for path in sorted(Path("/etc/apt").glob("sources.list*")) + sorted(Path("/etc/apt/sources.list.d").glob("*")):
        if not path.is_file() or path.suffix not in ("", ".list", ".sources"):
            continue
        for line in path.read_text().splitlines():
            words = line.split()
            if path.suffix == ".sources" and words[:1] == ["URIs:"] and words[1].rstrip("/").endswith("/debian"):
                return words[1]
            if words[:1] == ["deb"] and SUITE in words:
                uri = next(word for word in words[1:] if "://" in word)
                if uri.rstrip("/").endswith("/debian"):
                    return uri
    return "http://deb.debian.org/debian"


def _finish_root(root: Path, mirror: str) -> None:
    """Make the root filesystem behave like python:3.11-slim and keep it small."""
    (root / "etc/apt/sources.list").write_text(f"deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\n")
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()  # like the official image: `pip install` goes to the system Python
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists", "var/log", "tmp"):
        directory = root / cache
        for entry in directory.glob("*") if directory.exists() else ():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    for locale_dir in ("usr/share/doc", "usr/share/man", "usr/share/info"):
        shutil.rmtree(root / locale_dir, ignore_errors=True)
        (root / locale_dir).mkdir(exist_ok=True)


def base_image() -> Image:
    mirror = debian_mirror()
    finish = inspect.getsource(_finish_root)  # a change to how the root is finished is a new image
    tag = _digest(
        RECIPE_VERSION,
        SUITE,
        "minbase",
        " ".join(BASE_PACKAGES),
        mirror,
        _tool_version(["dpkg-query", "-W", "-f=${Version}", "debootstrap"]),
        finish,
    )
    name = "localhost/videojob-base"
    with _exclusive(name):
        return _cached(name, tag) or _build_base(name, tag, mirror)


def _build_base(name: str, tag: str, mirror: str) -> Image:
    if os.geteuid() != 0:
        raise ImageError("debootstrap needs root to build the base image; run as root (CI does)")
    began = time.monotonic()
    images_dir().mkdir(parents=True, exist_ok=True)
    with _scratch("base-") as scratch:
        root = Path(scratch, "root")
        log = images_dir() / "debootstrap.log"
        print(f"building the base image: debootstrap {SUITE} from {mirror} (log: {log})", file=sys.stderr, flush=True)
        _run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE, str(root), mirror],
            what="debootstrap of the base image",
            log=log,
        )
        _finish_root(root, mirror)
        _tar_directory(root, Path(scratch, "layer.tar"))
        image = Image(name, tag, images_dir() / f"videojob-base-{tag}.tar")
        write_docker_archive(
            image.archive,
            image.ref,
            Path(scratch, "layer.tar"),
            cmd=["python3"],
            created_by=f"debootstrap --variant=minbase --include={','.join(BASE_PACKAGES)} {SUITE}",
        )
    return _built(image, began)


# --- Dockerfiles on top of the base, with buildah ---------------------------------------
def _buildah(*args: str) -> list[str]:
    storage = images_dir() / "buildah"
    return [
        "buildah",
        "--root",
        str(storage / "storage"),
        "--runroot",
        str(storage / "run"),
        "--storage-driver",
        "overlay",
        *args,
    ]


def _copied_paths(dockerfile: Path, context: Path) -> list[Path]:
    """The files that COPY and ADD take from the context: what, with the Dockerfile, makes the image."""
    sources: list[Path] = []
    for line in dockerfile.read_text().replace("\\\n", " ").splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        arguments = [word for word in words[1:] if not word.startswith("--")]
        if any(word.startswith("--from") for word in words[1:]) or arguments[:1] == ["["]:
            continue
        for pattern in arguments[:-1]:
            sources.extend(sorted(context.glob(pattern.lstrip("/"))) or [context / pattern])
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files.extend(sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts))
        elif source.is_file():
            files.append(source)
    return files


def _trust_host_certificates() -> list[str]:
    """RUN steps trust what the host trusts (a TLS-inspecting proxy's CA, for pip), without baking it in."""
    bundle = Path(HOST_CA_BUNDLE)
    return ["--volume", f"{bundle}:{bundle}:ro"] if bundle.is_file() else []


def dockerfile_image(name: str, dockerfile: Path, context: Path, base: Image) -> Image:
    parts: list[bytes | str] = [RECIPE_VERSION, base.ref, dockerfile.read_text()]
    for path in _copied_paths(dockerfile, context):
        parts += [str(path.relative_to(context)), path.read_bytes()]
    tag = _digest(*parts)
    with _exclusive(name):
        return _cached(name, tag) or _build_dockerfile(name, tag, dockerfile, context, base)


def _build_dockerfile(name: str, tag: str, dockerfile: Path, context: Path, base: Image) -> Image:
    began = time.monotonic()
    images_dir().mkdir(parents=True, exist_ok=True)
    ref = f"{name}:{tag}"
    short = name.split("/")[-1]
    log = images_dir() / f"{short}.build.log"
    present = subprocess.run(_buildah("inspect", "--type", "image", base.ref), capture_output=True).returncode == 0
    if not present:
        _run(_buildah("pull", "--quiet", f"docker-archive:{base.archive}"), what=f"loading {base.ref} into buildah")
    print(f"building {ref} from {dockerfile.name} (log: {log})", file=sys.stderr, flush=True)
    # --layers: a change to the code alone reuses the apt and pip steps from buildah's storage.
    _run(
        _buildah(
            "bud",
            "--isolation",
            "chroot",
            "--network",
            "host",
            "--pull=false",
            "--layers",
            *_trust_host_certificates(),
            "--build-arg",
            f"BASE_IMAGE={base.ref}",
            "-f",
            str(dockerfile),
            "-t",
            ref,
            str(context),
        ),
        what=f"buildah bud of {dockerfile.name}",
        log=log,
    )
    image = Image(name, tag, images_dir() / f"{short}-{tag}.tar")
    partial = image.archive.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    _run(_buildah("push", "--quiet", ref, f"docker-archive:{partial}:{ref}"), what=f"exporting {ref}")
    partial.rename(image.archive)
    # The image stays in buildah's storage: its steps are the layer cache of the next build
    # (removing an image also removes the intermediate images that cache the steps).
    return _built(image, began)


def renderer_image(base: Image | None = None) -> Image:
    """Dockerfile.renderer (owned by the renderer) on top of the local base."""
    dockerfile = REPO_ROOT / "Dockerfile.renderer"
    if not dockerfile.exists():
        raise ImageError(f"{dockerfile} does not exist yet")
    return dockerfile_image("localhost/videojob-renderer", dockerfile, REPO_ROOT, base or base_image())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hack/images/build", description="Build the local images (cached by content)."
    )
    parser.add_argument("action", choices=["build"])
    parser.add_argument("which", nargs="*", help="pause, base, renderer (default: pause base)")
    args = parser.parse_args(argv)
    if unknown := set(args.which) - {"pause", "base", "renderer"}:
        parser.error(f"unknown image {', '.join(sorted(unknown))}: choose from pause, base, renderer")
    try:
        for which in args.which or ["pause", "base"]:
            image = {"pause": pause_image, "base": base_image, "renderer": renderer_image}[which]()
            how = f"built in {image.built_in:.1f}s" if image.built_in is not None else "cached"
            print(f"{image.ref:48} {image.size / 2**20:7.1f} MiB  {how}  {image.archive}")
    except (ImageError, tools.ToolError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Container images without a registry: built here, cached by content, loaded into the node.

- ``pause_image()``: the Pods' sandbox process, a static C binary (hack/images/pause.c).
- ``base_image()``: a Debian bookworm root filesystem from ``debootstrap --variant=minbase``
  plus Python 3.11 and pip, standing in for ``python:3.11-slim``: the build stages' base.
- ``runtime_base_image()``: the same Debian and Python without pip, setuptools or the
  translations: the base of the images' last stage, which never installs with pip.
- ``dockerfile_image()``: any Dockerfile built on top of the bases with buildah, passed as
  the ``BASE_IMAGE`` and ``RUNTIME_IMAGE`` build arguments (test images, and):
- ``renderer_image()`` (Dockerfile.renderer) and ``controlplane_image()`` (Dockerfile.controlplane:
  the operator and the gateway), and ``minio_image()``: the source-built MinIO binary alone.

The cache itself (content-addressed docker-archive tars) is ``image_store``. The node
imports the archives into containerd's ``k8s.io`` namespace; Pods refer to them as
``localhost/<name>:<hash>`` with ``imagePullPolicy: IfNotPresent``.

    hack/images/build [pause] [base] [runtime-base] [renderer] [controlplane] [minio]
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import sys
import time
from pathlib import Path

from videojob_devenv import REPO_ROOT, tools
from videojob_devenv.dockerfiles import dockerfile_image
from videojob_devenv.image_store import (
    RECIPE_VERSION,
    Image,
    ImageError,
    archive_path,
    built,
    cached,
    digest,
    exclusive,
    images_dir,
    run_step,
    scratch,
    tar_directory,
    tool_version,
    write_docker_archive,
)

__all__ = ["Image", "ImageError", "archive_path", "dockerfile_image", "images_dir"]  # with the builders below

PAUSE_SOURCE = REPO_ROOT / "hack" / "images" / "pause.c"
SUITE = "bookworm"
# Python like python:3.11-slim: `python` and `pip` on PATH, pip free to install system-wide.
BASE_PACKAGES = ("python3", "python3-pip", "python-is-python3", "ca-certificates")
# The last stage of an image only runs Python: no pip, setuptools or wheel (about 25 MiB).
RUNTIME_BASE_PACKAGES = ("python3", "python-is-python3", "ca-certificates")
# Every product image runs as this user (the chart's securityContext says the same).
PRODUCT_UID = 10001


# --- pause ---------------------------------------------------------------------
def pause_image() -> Image:
    source = PAUSE_SOURCE.read_text()
    tag = digest(RECIPE_VERSION, source, tool_version(["gcc", "--version"]))
    name = "localhost/videojob-pause"
    with exclusive(name):
        return cached(name, tag) or _build_pause(name, tag)


def _build_pause(name: str, tag: str) -> Image:
    began = time.monotonic()
    images_dir().mkdir(parents=True, exist_ok=True)
    with scratch("pause-") as work:
        root = Path(work, "root")
        root.mkdir()
        run_step(
            ["gcc", "-static", "-Os", "-s", "-o", str(root / "pause"), str(PAUSE_SOURCE)],
            what="compiling the pause binary (needs gcc and libc6-dev)",
        )
        tar_directory(root, Path(work, "layer.tar"))
        image = Image(name, tag, images_dir() / f"videojob-pause-{tag}.tar")
        write_docker_archive(
            image.archive,
            image.ref,
            Path(work, "layer.tar"),
            entrypoint=["/pause"],
            created_by="gcc -static hack/images/pause.c",
        )
    return built(image, began)


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


def _slim_runtime_root(root: Path) -> None:
    """What the last stage of a product image never reads: translations and Python's own tools."""
    shutil.rmtree(root / "usr/share/locale", ignore_errors=True)
    (root / "usr/share/locale").mkdir()
    for unused in ("lib2to3", "pydoc_data", "ensurepip", "idlelib", "turtledemo"):
        shutil.rmtree(root / "usr/lib/python3.11" / unused, ignore_errors=True)


def base_image() -> Image:
    """Debian and Python with pip: the build stages' base (``BASE_IMAGE``)."""
    mirror = debian_mirror()
    finish = inspect.getsource(_finish_root)  # a change to how the root is finished is a new image
    tag = digest(
        RECIPE_VERSION,
        SUITE,
        "minbase",
        " ".join(BASE_PACKAGES),
        mirror,
        tool_version(["dpkg-query", "-W", "-f=${Version}", "debootstrap"]),
        finish,
    )
    name = "localhost/videojob-base"
    with exclusive(name):
        return cached(name, tag) or _build_base(name, tag, mirror, BASE_PACKAGES)


def runtime_base_image() -> Image:
    """Debian and Python without pip: the last stage's base (``RUNTIME_IMAGE``)."""
    mirror = debian_mirror()
    tag = digest(
        RECIPE_VERSION,
        SUITE,
        "minbase",
        " ".join(RUNTIME_BASE_PACKAGES),
        mirror,
        tool_version(["dpkg-query", "-W", "-f=${Version}", "debootstrap"]),
        inspect.getsource(_finish_root),
        inspect.getsource(_slim_runtime_root),
    )
    name = "localhost/videojob-runtime-base"
    with exclusive(name):
        return cached(name, tag) or _build_base(name, tag, mirror, RUNTIME_BASE_PACKAGES, slim=True)


def _build_base(name: str, tag: str, mirror: str, packages: tuple[str, ...], *, slim: bool = False) -> Image:
    if os.geteuid() != 0:
        raise ImageError("debootstrap needs root to build the base images; run as root (CI does)")
    began = time.monotonic()
    images_dir().mkdir(parents=True, exist_ok=True)
    short = name.split("/")[-1]
    with scratch(f"{short}-") as work:
        root = Path(work, "root")
        log = images_dir() / f"debootstrap-{short}.log"
        print(f"building {name}: debootstrap {SUITE} from {mirror} (log: {log})", file=sys.stderr, flush=True)
        run_step(
            ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}", SUITE, str(root), mirror],
            what=f"debootstrap of {name}",
            log=log,
        )
        _finish_root(root, mirror)
        if slim:
            _slim_runtime_root(root)
        tar_directory(root, Path(work, "layer.tar"))
        image = Image(name, tag, images_dir() / f"{short}-{tag}.tar")
        write_docker_archive(
            image.archive,
            image.ref,
            Path(work, "layer.tar"),
            cmd=["python3"],
            created_by=f"debootstrap --variant=minbase --include={','.join(packages)} {SUITE}",
        )
    return built(image, began)


# --- the product's images -------------------------------------------------------------
def renderer_image(base: Image | None = None) -> Image:
    """Dockerfile.renderer: ``videojob render`` with Manim, TeX, ffmpeg and the voices."""
    return _product_image("localhost/videojob-renderer", "Dockerfile.renderer", base)


def controlplane_image(base: Image | None = None) -> Image:
    """Dockerfile.controlplane: the operator and the gateway, without Manim, TeX or ffmpeg."""
    return _product_image("localhost/videojob-controlplane", "Dockerfile.controlplane", base)


def _product_image(name: str, dockerfile_name: str, base: Image | None) -> Image:
    dockerfile = REPO_ROOT / dockerfile_name
    if not dockerfile.exists():
        raise ImageError(f"{dockerfile} does not exist yet")
    return dockerfile_image(name, dockerfile, REPO_ROOT, base or base_image(), runtime_base_image())


def code_edited_image(dockerfile_name: str, work: Path, base: Image | None = None) -> Image:
    """The product image of ``dockerfile_name`` after a code-only change, to see what it rebuilds.

    Built from a copy of the context in ``work`` with one comment line added to a module,
    as ``localhost/videojob-edited-<image>`` (the real image's archive stays); the caller
    removes the returned archive.
    """
    context = work / "context"
    for folder in ("videojob", "renderer", "operator", "api"):
        shutil.copytree(REPO_ROOT / folder, context / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", ".dockerignore", dockerfile_name, *_lock_names()):
        shutil.copy2(REPO_ROOT / name, context / name)
    with (context / "operator" / "__init__.py").open("a") as module:
        module.write(f"\n# a code-only change at {time.time()}\n")
    short = dockerfile_name.removeprefix("Dockerfile.")
    return dockerfile_image(
        f"localhost/videojob-edited-{short}",
        context / dockerfile_name,
        context,
        base or base_image(),
        runtime_base_image(),
    )


def _lock_names() -> list[str]:
    return sorted(lock.name for lock in REPO_ROOT.glob("requirements.*.lock"))


def minio_image() -> Image:
    """The source-built MinIO server alone (static Go binary), as uid 10001, for the chart's minio.enabled."""
    binary = tools.require_binary("minio")
    recipe = inspect.getsource(_build_minio)
    tag = digest(RECIPE_VERSION, binary.read_bytes(), recipe)
    name = "localhost/videojob-minio"
    with exclusive(name):
        return cached(name, tag) or _build_minio(name, tag, binary)


def _build_minio(name: str, tag: str, binary: Path) -> Image:
    began = time.monotonic()
    with scratch("minio-") as work:
        root = Path(work, "root")
        (root / "usr/local/bin").mkdir(parents=True)
        shutil.copy2(binary, root / "usr/local/bin/minio")
        # Who uid 10001 is (Go's os/user asks), and the places MinIO writes: /data, a volume in
        # the chart, and /tmp, an emptyDir there; both writable here too for a plain `run`.
        (root / "etc").mkdir()
        (root / "etc/passwd").write_text(f"minio:x:{PRODUCT_UID}:{PRODUCT_UID}::/tmp:/nonexistent\n")
        (root / "etc/group").write_text(f"minio:x:{PRODUCT_UID}:\n")
        for directory, mode in (("tmp", 0o1777), ("data", 0o700)):
            (root / directory).mkdir()
            (root / directory).chmod(mode)
            os.chown(
                root / directory, PRODUCT_UID if directory == "data" else 0, PRODUCT_UID if directory == "data" else 0
            )
        tar_directory(root, Path(work, "layer.tar"))
        image = Image(name, tag, images_dir() / f"videojob-minio-{tag}.tar")
        write_docker_archive(
            image.archive,
            image.ref,
            Path(work, "layer.tar"),
            entrypoint=["minio"],
            cmd=["server", "/data", "--certs-dir", "/tmp/certs"],
            user=f"{PRODUCT_UID}:{PRODUCT_UID}",
            env={"HOME": "/tmp"},
            created_by=f"the MinIO server built from source ({binary.parent.name})",
        )
    return built(image, began)


BUILDERS = {
    "pause": pause_image,
    "base": base_image,
    "runtime-base": runtime_base_image,
    "renderer": renderer_image,
    "controlplane": controlplane_image,
    "minio": minio_image,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hack/images/build", description="Build the local images (cached by content)."
    )
    parser.add_argument("action", choices=["build"])
    parser.add_argument("which", nargs="*", help=f"{', '.join(BUILDERS)} (default: pause base)")
    args = parser.parse_args(argv)
    if unknown := set(args.which) - BUILDERS.keys():
        parser.error(f"unknown image {', '.join(sorted(unknown))}: choose from {', '.join(BUILDERS)}")
    try:
        for which in args.which or ["pause", "base"]:
            image = BUILDERS[which]()
            how = f"built in {image.built_in:.1f}s" if image.built_in is not None else "cached"
            print(f"{image.ref:48} {image.size / 2**20:7.1f} MiB  {how}  {image.archive}", flush=True)
    except (ImageError, tools.ToolError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

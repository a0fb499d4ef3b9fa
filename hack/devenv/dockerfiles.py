"""Dockerfiles built on the local bases with buildah, cached by content like every image.

The tag hashes the Dockerfile, the bases' refs and every file its COPY and ADD take from the
context; buildah's own layer cache (``--layers``, kept in ``images/buildah``) then makes a
code-only change rebuild just the steps after the first changed COPY.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from videojob_devenv.image_store import (
    RECIPE_VERSION,
    Image,
    built,
    cached,
    digest,
    exclusive,
    images_dir,
    run_step,
)

HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


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


def dockerfile_image(name: str, dockerfile: Path, context: Path, base: Image, runtime: Image | None = None) -> Image:
    """``dockerfile`` built on ``base`` (``BASE_IMAGE``) and, when given, ``runtime`` (``RUNTIME_IMAGE``)."""
    parts: list[bytes | str] = [RECIPE_VERSION, base.ref, dockerfile.read_text()]
    if runtime is not None:
        parts.append(runtime.ref)
    for path in _copied_paths(dockerfile, context):
        parts += [str(path.relative_to(context)), path.read_bytes()]
    tag = digest(*parts)
    with exclusive(name):
        return cached(name, tag) or _build_dockerfile(name, tag, dockerfile, context, base, runtime)


def _load_into_buildah(image: Image) -> None:
    present = subprocess.run(_buildah("inspect", "--type", "image", image.ref), capture_output=True).returncode == 0
    if not present:
        run_step(
            _buildah("pull", "--quiet", f"docker-archive:{image.archive}"), what=f"loading {image.ref} into buildah"
        )


def _build_dockerfile(
    name: str, tag: str, dockerfile: Path, context: Path, base: Image, runtime: Image | None
) -> Image:
    began = time.monotonic()
    images_dir().mkdir(parents=True, exist_ok=True)
    ref = f"{name}:{tag}"
    short = name.split("/")[-1]
    log = images_dir() / f"{short}.build.log"
    arguments = ["--build-arg", f"BASE_IMAGE={base.ref}"]
    for image in (base, runtime) if runtime is not None else (base,):
        _load_into_buildah(image)
    if runtime is not None:
        arguments += ["--build-arg", f"RUNTIME_IMAGE={runtime.ref}"]
    print(f"building {ref} from {dockerfile.name} (log: {log})", file=sys.stderr, flush=True)
    # --layers: a change to the code alone reuses the apt and pip steps from buildah's storage.
    run_step(
        _buildah(
            "bud",
            "--isolation",
            "chroot",
            "--network",
            "host",
            "--pull=false",
            "--layers",
            *_trust_host_certificates(),
            *arguments,
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
    run_step(_buildah("push", "--quiet", ref, f"docker-archive:{partial}:{ref}"), what=f"exporting {ref}")
    partial.rename(image.archive)
    # The image stays in buildah's storage: its steps are the layer cache of the next build
    # (removing an image also removes the intermediate images that cache the steps). Its
    # superseded tags go, as their archives do: each held a GiB of layers nobody uses again.
    forget_older_tags(name, keep=tag)
    return built(image, began)


def forget_older_tags(name: str, *, keep: str) -> None:
    """Remove ``name``'s other tags from buildah's storage (one still in use by a build stays)."""
    listing = subprocess.run(_buildah("images", "--format", "{{.Name}} {{.Tag}}"), capture_output=True, text=True)
    tags = {words[1] for words in map(str.split, listing.stdout.splitlines()) if len(words) == 2 and words[0] == name}
    for old in sorted(tags - {keep}):
        subprocess.run(_buildah("rmi", f"{name}:{old}"), capture_output=True)

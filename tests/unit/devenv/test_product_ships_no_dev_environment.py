"""The dev environment (hack/devenv, ``videojob_devenv``) stays out of what users install.

Users get the product as a wheel (``pip install``) or as the renderer and control-plane
images, which are built from the context that .dockerignore lets through and install the same wheel.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from support import REPO_ROOT

DEV_PACKAGE = "videojob_devenv"


def _dockerignore_rules() -> list[tuple[bool, str]]:
    """(excludes, pattern) in file order; the last rule that matches a path decides, as in Docker."""
    rules = []
    for line in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append((not line.startswith("!"), line.lstrip("!").strip("/")))
    return rules


def _matches(pattern: str, path: str) -> bool:
    """A pattern matches a path or any folder above it; ``**/`` matches at any depth."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    candidates = [pattern, pattern.removeprefix("**/")] if pattern.startswith("**/") else [pattern]
    for candidate in candidates:
        if any(fnmatch.fnmatchcase(prefix, candidate) for prefix in prefixes):
            return True
        if pattern.startswith("**/") and any(fnmatch.fnmatchcase(part, candidate) for part in parts):
            return True
    return False


def build_context_files() -> list[str]:
    """The files `docker build .` / buildah send as the context of Dockerfile.renderer and Dockerfile.controlplane."""
    rules = _dockerignore_rules()
    admitted = []
    for file in sorted(
        p for p in REPO_ROOT.rglob("*") if p.is_file() and ".git" not in p.parts and ".venv" not in p.parts
    ):
        path = file.relative_to(REPO_ROOT).as_posix()
        excluded = False
        for excludes, pattern in rules:
            if _matches(pattern, path):
                excluded = excludes
        if not excluded:
            admitted.append(path)
    return admitted


def _imports_dev_package(source: str) -> bool:
    return f"import {DEV_PACKAGE}" in source or f"from {DEV_PACKAGE}" in source


def test_the_image_context_holds_only_the_product():
    files = build_context_files()
    assert "videojob/contract.py" in files and "renderer/cli.py" in files, files[:20]
    top_level = {path.split("/")[0] for path in files}
    assert top_level <= {
        "videojob",
        "operator",
        "renderer",
        "api",
        "pyproject.toml",
        "README.md",
        "requirements.renderer.lock",
        "requirements.controlplane.lock",
    }, sorted(top_level)
    dev = [path for path in files if "devenv" in path.split("/") or path.startswith("hack/")]
    assert dev == [], "the images' build context carries the dev environment"
    importing = [
        path for path in files if path.endswith(".py") and _imports_dev_package((REPO_ROOT / path).read_text())
    ]
    assert importing == [], "product code imports the dev environment"


def test_the_wheel_holds_no_dev_environment_and_cryptography_only_as_a_dev_extra(tmp_path):
    # Build from a copy of exactly the image's context: no build/ or egg-info in the checkout,
    # and the wheel is the one Dockerfile.renderer installs.
    context = tmp_path / "context"
    for path in build_context_files():
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / path, context / path)
    uv = Path(sys.executable).with_name("uv")
    built = subprocess.run(
        [
            str(uv),
            "build",
            "--wheel",
            "--offline",
            "--python",
            sys.executable,
            "--out-dir",
            str(tmp_path / "dist"),
            str(context),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, (
        f"uv build failed (hack/bootstrap installs uv and caches setuptools):\n{built.stderr[-3000:]}"
    )
    [wheel] = (tmp_path / "dist").glob("videojob-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        sources = {name: archive.read(name).decode() for name in names if name.endswith(".py")}
        [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
        requires = [line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]

    assert "videojob/operator/__main__.py" in names and "videojob/renderer/cli.py" in names, names[:20]
    assert [name for name in names if "devenv" in name] == []
    assert [name for name, source in sources.items() if _imports_dev_package(source)] == []
    cryptography = [line for line in requires if line.split()[1].startswith("cryptography")]
    assert cryptography and all('extra == "dev"' in line for line in cryptography), requires

"""Each image installs its own lock; the .venv and CI install requirements.lock. All agree and none is stale.

A lock is stale when pyproject.toml's dependencies changed and ``hack/lock`` was not run:
a direct dependency is missing or no longer the one declared, or a package the pinned ones
need is not pinned. The packages' own requirements are read from the .venv, which
``hack/bootstrap`` syncs to requirements.lock: the same versions, so no network is needed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from support import REPO_ROOT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)")
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
# Which extras of pyproject.toml each lock holds, besides the core dependencies.
LOCKS = {
    "requirements.lock": ("dev",),
    "requirements.renderer.lock": ("renderer",),
    "requirements.controlplane.lock": ("operator", "gateway"),
}
DEV_TOOLS = {"pytest", "ruff", "mypy", "selenium", "schemathesis", "cryptography", "hypothesis"}
# The folder of each component and the extras its code may import from (with the core's).
COMPONENTS = {"videojob": (), "renderer": ("renderer",), "operator": ("operator",), "api": ("gateway",)}


def _pins(lock: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO_ROOT / lock).read_text().splitlines():
        if match := PIN.match(line):
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _direct(extras: tuple[str, ...]) -> list[Requirement]:
    """The core's requirements and those of ``extras``, following ``videojob[...]`` self-references."""
    wanted, seen, requirements = list(extras), set(), [Requirement(text) for text in PROJECT["dependencies"]]
    while wanted:
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == "videojob":
                wanted.extend(requirement.extras)
            else:
                requirements.append(requirement)
    return requirements


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every package these need on Linux and Python 3.11, from the installed packages' metadata."""
    needed: set[str] = set()
    queue = list(requirements)
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in needed:
            continue
        needed.add(key)
        needed.add(name)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{name} is pinned but not in the .venv: run hack/bootstrap python", pytrace=False)
        for text in distribution.requires or ():
            nested = Requirement(text)
            active = ["", *sorted(requirement.extras)]
            # evaluate() fills in this interpreter's environment (Linux, CPython 3.11, as the locks target).
            if nested.marker is None or any(nested.marker.evaluate({"extra": extra}) for extra in active):
                queue.append(nested)
    return {name for name in needed if "[" not in name}


@pytest.mark.parametrize("lock", [name for name in LOCKS if name != "requirements.lock"])
def test_an_image_lock_pins_the_same_versions_as_the_dev_lock(lock):
    image, dev = _pins(lock), _pins("requirements.lock")
    assert {name: (version, dev.get(name)) for name, version in image.items() if dev.get(name) != version} == {}


@pytest.mark.parametrize("lock", LOCKS)
def test_a_lock_pins_what_pyproject_declares_and_nothing_more(lock):
    pins = _pins(lock)
    direct = _direct(LOCKS[lock])
    outside = [
        str(r)
        for r in direct
        if canonicalize_name(r.name) in pins and pins[canonicalize_name(r.name)] not in r.specifier
    ]
    missing = sorted(_closure(direct) - pins.keys())
    unneeded = sorted(pins.keys() - _closure(direct))
    assert (outside, missing, unneeded) == ([], [], []), f"{lock} is stale: run hack/lock"


def test_the_image_locks_hold_no_test_or_lint_tools_and_no_other_components_packages():
    renderer, controlplane = _pins("requirements.renderer.lock"), _pins("requirements.controlplane.lock")
    assert DEV_TOOLS & (renderer.keys() | controlplane.keys()) == set()
    assert {"kopf", "kubernetes", "fastapi", "uvicorn", "prometheus-client"} & renderer.keys() == set()
    assert {"manim", "openai", "onnxruntime", "numpy", "scipy"} & controlplane.keys() == set()


def _imported_distributions(folder: str, *, module_level_only: bool) -> dict[str, set[str]]:
    """Third-party distributions the folder's modules import: {distribution: {module paths}}."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text())
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top == "videojob":
                    continue
                for distribution in owners.get(top, [top]):
                    found.setdefault(canonicalize_name(distribution), set()).add(str(path.relative_to(REPO_ROOT)))
    return found


@pytest.mark.parametrize("folder", COMPONENTS)
def test_a_component_imports_only_what_its_extras_declare(folder):
    # The core counts what it imports on loading: a component's dependency may be imported
    # inside the one function that needs it (numpy in videojob/expression.py for the renderer).
    declared = {canonicalize_name(r.name) for r in _direct(COMPONENTS[folder])}
    imported = _imported_distributions(folder, module_level_only=folder == "videojob")
    assert {name: sorted(paths) for name, paths in imported.items() if name not in declared} == {}


def test_no_product_code_imports_the_asyncio_kubernetes_client_the_controlplane_image_drops():
    sources = [path for folder in COMPONENTS for path in (REPO_ROOT / folder).rglob("*.py")]
    assert [str(p) for p in sources if re.search(r"kubernetes\.aio|from kubernetes import aio", p.read_text())] == []
    assert "kubernetes/aio" in (REPO_ROOT / "Dockerfile.controlplane").read_text()


def test_hack_lock_writes_every_lock_this_test_checks():
    script = (REPO_ROOT / "hack" / "lock").read_text()
    assert all(f"-o {lock}" in script for lock in LOCKS), script
    assert not Path(REPO_ROOT / "requirements.product.lock").exists()

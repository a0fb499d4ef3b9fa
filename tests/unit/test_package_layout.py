"""The folders install as subpackages of one distribution; none shadows the standard library."""

import os
import subprocess
import sys
from pathlib import Path

from support import REPO_ROOT


def _python(code: str, cwd: Path) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_component_folders_import_as_videojob_subpackages(tmp_path):
    code = "import videojob.operator, videojob.renderer, videojob.api; print(videojob.operator.__file__)"
    assert _python(code, tmp_path) == str(REPO_ROOT / "operator" / "__init__.py")


def test_operator_is_still_the_standard_library_module(tmp_path):
    origin = _python("import importlib.util; print(importlib.util.find_spec('operator').origin)", tmp_path)
    assert Path(origin).parent == Path(
        sys.base_prefix, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}"
    )


def test_importing_the_folder_as_top_level_operator_explains_itself():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}  # the unsafe default a user may have
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules.pop('operator'); import operator"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert "run Python with -P (or PYTHONSAFEPATH=1)" in result.stderr


COMPONENTS = ("videojob.operator", "videojob.renderer", "videojob.api")


def _imports(path: Path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_core_imports_no_component():
    core = [path for path in (REPO_ROOT / "videojob").rglob("*.py")]
    assert len(core) >= 5
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(name for name in _imports(path) if name.startswith(COMPONENTS))
        for path in core
    }
    assert {path: names for path, names in offenders.items() if names} == {}

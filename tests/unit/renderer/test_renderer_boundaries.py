"""The renderer holds no Kubernetes credentials, so it must not even import a Kubernetes client."""

import ast
import subprocess
import sys
from pathlib import Path

from support import REPO_ROOT

FORBIDDEN = {"kopf", "kubernetes", "kubernetes_asyncio", "lightkube", "pykube"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_renderer_module_imports_kopf_or_a_kubernetes_client():
    files = [*(REPO_ROOT / "renderer").rglob("*.py"), REPO_ROOT / "videojob" / "storyboard.py"]
    assert len(files) > 15
    offenders = {str(f.relative_to(REPO_ROOT)): _imported_roots(f) & FORBIDDEN for f in files}
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_the_cli_and_pipeline_load_without_kubernetes_modules():
    code = (
        "import sys, videojob.renderer.cli, videojob.renderer.pipeline, videojob.renderer.sources;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    out = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

"""The real API server refuses every malformed VideoJob with a message naming the field, and accepts every sample.

The corpus lives in tests/data/: each file's first line says `# expect: <text>`, a piece
of the API server's answer that names the field (and, for CEL rules, our message).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support import REPO_ROOT

INVALID = sorted((REPO_ROOT / "tests" / "data" / "invalid_videojobs").glob("*.yaml"))
INVALID_UPDATES = sorted((REPO_ROOT / "tests" / "data" / "invalid_videojob_updates").glob("*.yaml"))
SAMPLES = sorted((REPO_ROOT / "manifests" / "samples").glob("videojob_v1alpha1_*.yaml"))

pytestmark = pytest.mark.cluster


def _expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <text>'"
    return first.removeprefix("# expect: ")


def test_the_corpus_is_big_enough():
    assert len(INVALID) >= 30
    assert {path.stem.split("-")[0] for path in INVALID} >= {
        "source",
        "prompt",
        "markdown",
        "storyboard",
        "duration",
        "parallelism",
        "retries",
        "deadline",
        "llm",
        "resources",
    }


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_malformed_videojob_is_refused_naming_the_field(kube_cluster, videojob_crd, path):
    # Refused objects are never stored, so these share the default namespace (no per-test namespace to wait for).
    result = kube_cluster.kubectl("create", "-n", "default", "-f", str(path), check=False)
    assert result.returncode != 0, f"{path.name} was accepted"
    assert _expected(path) in result.stderr, result.stderr


@pytest.mark.parametrize("path", INVALID_UPDATES, ids=lambda p: p.stem)
def test_immutable_fields_cannot_change(kube_cluster, videojob_crd, namespace, path):
    before, after = yaml.safe_load_all(path.read_text())
    kube_cluster.kubectl("create", "-n", namespace, "-f", "-", input=yaml.safe_dump(before))
    result = kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(after), check=False)
    assert result.returncode != 0, f"{path.name}: the change was accepted"
    assert _expected(path) in result.stderr, result.stderr


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_sample_is_accepted_with_defaults_filled_in(kube_cluster, videojob_crd, namespace, path):
    kube_cluster.kubectl("apply", "-n", namespace, "-f", str(path))
    name = yaml.safe_load(path.read_text())["metadata"]["name"]
    spec = yaml.safe_load(kube_cluster.kubectl("get", "vj", name, "-n", namespace, "-o", "yaml").stdout)["spec"]
    assert spec["retries"] in range(0, 11) and spec["output"]["retention"] in ("Retain", "Delete")
    assert spec["llm"]["provider"] in ("openai", "offline") and spec["suspend"] is False


def test_kubectl_explain_teaches_the_source_field(kube_cluster, videojob_crd):
    text = kube_cluster.kubectl("explain", "vj.spec.source").stdout
    assert "exactly one of prompt, markdown or storyboard" in text
    assert "markdown" in text and "storyboard" in text


def test_vj_short_name_and_printer_columns(kube_cluster, videojob_crd, namespace):
    kube_cluster.kubectl("apply", "-n", namespace, "-f", str(SAMPLES[0]))
    header = kube_cluster.kubectl("get", "vj", "-n", namespace).stdout.splitlines()[0].split()
    assert header == ["NAME", "PHASE", "PROGRESS", "QUALITY", "AGE", "DURATION", "OUTPUT"]

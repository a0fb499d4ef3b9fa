"""crds/ ships exactly the CRD of manifests/crd/ (hack/gen-crd writes both)."""

from __future__ import annotations

from support.chart import CHART_DIR, REPO_ROOT


def test_chart_crds_are_byte_identical_to_manifests_crd() -> None:
    manifests = sorted(p.name for p in (REPO_ROOT / "manifests" / "crd").glob("*.yaml"))
    chart = sorted(p.name for p in (CHART_DIR / "crds").glob("*.yaml"))
    assert chart == manifests, "charts/videojob/crds/ and manifests/crd/ hold different files: run hack/gen-crd"
    for name in manifests:
        assert (CHART_DIR / "crds" / name).read_bytes() == (REPO_ROOT / "manifests" / "crd" / name).read_bytes(), (
            f"charts/videojob/crds/{name} differs from manifests/crd/{name}: run hack/gen-crd"
        )

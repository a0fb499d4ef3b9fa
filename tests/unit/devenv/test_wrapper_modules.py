"""The wrapper go.mod files are derived from upstream's own go.mod, not written by hand."""

from videojob_devenv import tools

UPSTREAM = """module k8s.io/kubernetes

go 1.24.0

godebug default=go1.24

require (
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/kube-openapi => k8s.io/kube-openapi v0.0.0-2025
)
"""


def test_every_staging_replace_becomes_the_published_release():
    gomod = tools.kubernetes_wrapper_gomod("v1.34.4", UPSTREAM)
    assert "\tk8s.io/api => k8s.io/api v0.34.4\n" in gomod
    assert "\tk8s.io/client-go => k8s.io/client-go v0.34.4\n" in gomod
    assert "kube-openapi" not in gomod  # not a staging module: left to upstream's require
    assert "require k8s.io/kubernetes v1.34.4" in gomod
    assert "go 1.24.0\ngodebug default=go1.24" in gomod


def test_version_ldflags_make_the_binaries_report_the_release():
    flags = tools.kubernetes_ldflags("v1.34.4")
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {package}.gitVersion=v1.34.4" in flags
        assert f"-X {package}.gitMajor=1" in flags
        assert f"-X {package}.gitMinor=34" in flags

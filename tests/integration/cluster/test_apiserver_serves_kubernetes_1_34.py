"""The API server the tests talk to is the real one, built from source at the pinned version."""

import json
import ssl
import urllib.request

from videojob_devenv import tools


def test_version_endpoint_reports_the_pinned_release(kube_cluster):
    pki = kube_cluster.pki_dir
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
    with urllib.request.urlopen(f"{kube_cluster.server}/version", context=context, timeout=10) as response:
        version = json.load(response)
    assert version["gitVersion"] == tools.KUBERNETES_VERSION
    assert (version["major"], version["minor"]) == ("1", "34")
    assert version["gitTreeState"] == "clean"


def test_kubectl_talks_to_it_with_the_written_kubeconfig(kube_cluster):
    reported = json.loads(kube_cluster.kubectl("version", "-o", "json").stdout)
    assert reported["serverVersion"]["gitVersion"] == tools.KUBERNETES_VERSION
    assert reported["clientVersion"]["gitVersion"] == tools.KUBERNETES_VERSION

"""A CRD's CEL rule is enforced by the real API server at admission."""

import pytest

from support import wait_for

PROOF_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ranges.proof.videojob.dev
spec:
  group: proof.videojob.dev
  scope: Namespaced
  names: {plural: ranges, singular: range, kind: Range}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              min: {type: integer}
              max: {type: integer}
            x-kubernetes-validations:
            - rule: self.min <= self.max
              message: spec.min must not exceed spec.max
"""


@pytest.fixture(scope="module")
def range_crd(kube_cluster):
    kube_cluster.kubectl("apply", "-f", "-", input=PROOF_CRD)
    kube_cluster.kubectl("wait", "--for=condition=Established", "crd/ranges.proof.videojob.dev", "--timeout=60s")
    # Established can precede discovery by a moment; wait until kubectl can resolve the kind.
    wait_for(
        lambda: kube_cluster.kubectl("get", "ranges", "-A", check=False).returncode == 0,
        30,
        what="ranges to appear in discovery",
    )
    yield
    kube_cluster.kubectl("delete", "crd", "ranges.proof.videojob.dev", "--wait=false", check=False)


def _range(name, low, high):
    return (
        f"apiVersion: proof.videojob.dev/v1\nkind: Range\nmetadata: {{name: {name}}}\n"
        f"spec: {{min: {low}, max: {high}}}\n"
    )


def test_object_breaking_the_rule_is_rejected_with_its_message(kube_cluster, range_crd, namespace):
    result = kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=_range("upside-down", 5, 1), check=False)
    assert result.returncode != 0
    assert "spec.min must not exceed spec.max" in result.stderr
    assert kube_cluster.kubectl("get", "ranges", "-n", namespace, "-o", "name").stdout.strip() == ""


def test_object_keeping_the_rule_is_stored(kube_cluster, range_crd, namespace):
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=_range("fine", 1, 5))
    assert kube_cluster.kubectl("get", "range", "fine", "-n", namespace, "-o", "jsonpath={.spec.max}").stdout == "5"

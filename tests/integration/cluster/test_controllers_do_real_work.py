"""The real controller-manager runs: the Job controller makes Pods, the garbage collector cascades."""

import json

from support import wait_for

JOB = """
apiVersion: batch/v1
kind: Job
metadata: {name: hello}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: localhost/does-not-matter:1, command: ["true"]}
"""


def _json(kube_cluster, *args):
    return json.loads(kube_cluster.kubectl(*args, "-o", "json").stdout)


def test_job_controller_creates_a_pod_that_stays_pending_without_a_node(kube_cluster, namespace):
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=JOB)
    pods = wait_for(
        lambda: _json(kube_cluster, "get", "pods", "-n", namespace, "-l", "job-name=hello")["items"],
        30,
        what="the Job controller to create a Pod",
    )
    pod = pods[0]
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Job", "hello", True)
    assert pod["status"]["phase"] == "Pending"
    assert "nodeName" not in pod["spec"]
    # The real scheduler looked at it and found nowhere to put it.
    condition = wait_for(
        lambda: next(
            (
                c
                for c in _json(kube_cluster, "get", "pod", pod["metadata"]["name"], "-n", namespace)["status"].get(
                    "conditions", []
                )
                if c["type"] == "PodScheduled"
            ),
            None,
        ),
        30,
        what="the scheduler to report on the Pod",
    )
    assert condition["status"] == "False" and condition["reason"] == "Unschedulable"


def test_deleting_an_owner_cascades_to_what_it_owns(kube_cluster, namespace):
    kube_cluster.kubectl("create", "configmap", "owner", "-n", namespace)
    uid = kube_cluster.kubectl("get", "configmap", "owner", "-n", namespace, "-o", "jsonpath={.metadata.uid}").stdout
    owned = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "owned",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}],
        },
        "stringData": {"k": "v"},
    }
    kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(owned))
    kube_cluster.kubectl("delete", "configmap", "owner", "-n", namespace)
    wait_for(
        lambda: kube_cluster.kubectl("get", "secret", "owned", "-n", namespace, check=False).returncode != 0,
        30,
        what="the garbage collector to delete the owned Secret",
    )

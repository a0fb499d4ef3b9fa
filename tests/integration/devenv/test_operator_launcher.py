"""The one operator launcher: it returns when kopf says the operator is live, and says why when it is not."""

from __future__ import annotations

import json
import urllib.request

import pytest

from support import videojob_manifest, wait_for
from videojob_devenv.operator_process import start_operator
from videojob_devenv.processes import StartError


@pytest.mark.cluster
def test_the_operator_is_live_and_acting_when_the_launcher_returns(kube_cluster, videojob_crd, namespace, tmp_path):
    operator = start_operator(kube_cluster.kubeconfig, namespace, tmp_path / "operator.log")
    try:
        # The liveness endpoint answered before start_operator returned; it still does.
        with urllib.request.urlopen(operator.liveness_url, timeout=5) as response:
            assert response.status == 200
            json.loads(response.read())  # kopf's probe results, a JSON object
        kube_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(videojob_manifest("live")))
        wait_for(
            lambda: kube_cluster.kubectl("get", "jobs", "-n", namespace, "-o", "name").stdout.strip(),
            30,
            "the operator to create the renderer Job",
        )
    finally:
        operator.stop()
    assert not operator.running()


def test_an_operator_that_exits_at_start_is_reported_with_its_own_words(tmp_path):
    # A bad setting stops the operator before it contacts any cluster, so none is needed here.
    with pytest.raises(StartError) as raised:
        start_operator(
            tmp_path / "no-kubeconfig",
            "default",
            tmp_path / "operator.log",
            settings={"VIDEOJOB_MAX_CONCURRENT_RENDERS": "0"},
            timeout=60,
        )
    message = str(raised.value)
    assert "operator exited with code 2 while starting" in message
    assert "VIDEOJOB_MAX_CONCURRENT_RENDERS" in message  # the tail of its log names the variable

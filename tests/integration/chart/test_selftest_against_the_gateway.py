"""``videojob-gateway selftest`` (what ``helm test`` runs) against the real gateway process under
its own ServiceAccount, the real API server, the real operator and real MinIO. The renderer
Pod's part is played by the gateway tests' stand-in (it runs the Job's Pod on a fake Node,
writes its progress lines and puts a real MP4 and contact sheet into MinIO:
tests/support/gateway_renderer.py), so the check's downloads, its sha256 comparison and its
PNG check are real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from support import wait_for
from support.gateway import create_tenant, gateway_kubeconfig, start_gateway  # noqa: F401 - fixtures
from support.gateway_renderer import renderer  # noqa: F401 - a fixture
from support.stand_ins import (  # noqa: F401 - fixtures shared with the gateway tests
    cluster,
    fake_kubelet,
    fake_node,
    helpers,
    start_operator,
)
from videojob.s3 import job_output_prefix

pytestmark = [pytest.mark.cluster, pytest.mark.minio]


@pytest.fixture
def operator_with_keys(start_operator: Any, minio_server: Any) -> Any:  # noqa: F811 - the imported fixture
    """With S3 keys, as the chart runs it: retention Delete removes a deleted video's files."""
    return start_operator(
        VIDEOJOB_S3_ENDPOINT=minio_server.url,
        VIDEOJOB_S3_BUCKET=minio_server.bucket,
        VIDEOJOB_S3_ACCESS_KEY=minio_server.access_key,
        VIDEOJOB_S3_SECRET_KEY=minio_server.secret_key,
    )


@pytest.fixture
def selftest(start_gateway: Any, create_tenant: Any, cluster: Any) -> Iterator[Any]:  # noqa: F811
    """Start the documented command against a fresh gateway; yield the process (stdout line by line)."""
    key = create_tenant(cluster.namespace)
    gateway = start_gateway()
    process = subprocess.Popen(
        [sys.executable, "-P", "-m", "videojob.api", "selftest", "--url", gateway.url, "--timeout", "90"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"VIDEOJOB_SELFTEST_API_KEY": key, "PYTHONSAFEPATH": "1"},
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(10)


def submitted_video(process: subprocess.Popen) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("submitted video "), f"{line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
    return line.split()[-1]


def read_until(process: subprocess.Popen, text: str) -> list[str]:
    """The lines the self-test prints up to the one holding ``text`` (it exits if it never comes)."""
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or text not in lines[-1]:
        line = process.stdout.readline()
        assert line, f"the self-test ended before printing {text!r}: {lines}"
        lines.append(line)
    return lines


def test_selftest_follows_downloads_checks_and_deletes_the_video(
    cluster: Any,  # noqa: F811
    operator_with_keys: Any,
    renderer: Any,  # noqa: F811
    selftest: subprocess.Popen,
    minio_server: Any,
) -> None:
    name = submitted_video(selftest)
    videojob = cluster.get("vj", name)
    assert videojob["spec"]["source"]["storyboard"]["scenes"][0]["template"] == "title"
    assert videojob["spec"]["quality"] == "low" and videojob["spec"]["output"]["retention"] == "Delete"
    pod = renderer.start(name)
    renderer.progress(pod, "Rendering", 50, "Rendering scene 1/1", eta=3)
    read_until(selftest, "in_progress 50% Rendering scene 1/1")  # it polls every 2 s
    result = renderer.succeed(pod, name)
    out, err = selftest.communicate(timeout=60)
    assert selftest.returncode == 0, err
    assert f"completed and its download matches sha256 {result.output.sha256[:16]}" in out
    assert f"video {name} has a contact sheet: a PNG of {len(renderer.contact_sheet)} bytes" in out, out

    wait_for(lambda: cluster.kubectl("get", "vj", name, check=False).returncode != 0, 30, f"vj/{name} to be deleted")
    prefix = job_output_prefix(cluster.namespace, name, videojob["metadata"]["uid"])
    left = list(minio_server.client().list_objects(minio_server.bucket, prefix=prefix, recursive=True))
    assert left == [], f"the self-test left {[o.object_name for o in left]}"


def test_selftest_passes_against_a_renderer_that_makes_no_contact_sheet(
    cluster: Any,  # noqa: F811
    operator_with_keys: Any,
    renderer: Any,  # noqa: F811
    selftest: subprocess.Popen,
) -> None:
    name = submitted_video(selftest)
    renderer.succeed(renderer.start(name), name, contact_sheet=False)  # as a renderer from before contact sheets
    out, err = selftest.communicate(timeout=60)
    assert selftest.returncode == 0, err
    assert f"video {name} has no contact sheet (its renderer makes none): not checked" in out, out


def test_selftest_fails_on_a_contact_sheet_that_is_not_a_png(
    cluster: Any,  # noqa: F811
    operator_with_keys: Any,
    renderer: Any,  # noqa: F811
    selftest: subprocess.Popen,
) -> None:
    name = submitted_video(selftest)
    renderer.succeed(renderer.start(name), name, contact_sheet=b"<html>an error page, not a picture</html>")
    _, err = selftest.communicate(timeout=60)
    assert selftest.returncode == 1, err
    assert f"the contact sheet of video {name} (41 bytes) is not a PNG: it starts b'<html>an'" in err, err


def test_selftest_fails_with_the_renderers_reason(
    cluster: Any,  # noqa: F811
    operator_with_keys: Any,
    renderer: Any,  # noqa: F811
    selftest: subprocess.Popen,
) -> None:
    name = submitted_video(selftest)
    renderer.fail(renderer.start(name), "UploadFailed", "S3 refused the upload: check the renderers' S3 Secret.")
    _, err = selftest.communicate(timeout=60)
    assert selftest.returncode == 1
    assert f"video {name} failed: UploadFailed: S3 refused the upload" in err


def test_selftest_with_a_key_the_gateway_does_not_know_says_so(start_gateway: Any) -> None:  # noqa: F811
    gateway = start_gateway()
    done = subprocess.run(
        [sys.executable, "-P", "-m", "videojob.api", "selftest", "--url", gateway.url],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"VIDEOJOB_SELFTEST_API_KEY": "vj_000000000000_" + "x" * 43, "PYTHONSAFEPATH": "1"},
    )
    assert done.returncode == 1 and "POST /v1/videos answered 401" in done.stderr, done.stderr

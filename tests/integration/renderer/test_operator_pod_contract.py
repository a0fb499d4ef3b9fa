"""The renderer runs from exactly what the operator's Job gives its Pod: the env, the mounted spec, no args.

The env list comes from the operator's own builders, with each secretKeyRef resolved as
the kubelet would and the Pod's paths mapped into tmp_path; the render goes to the real
MinIO, and the termination message is read back with the contract's parser, as the
operator reads it.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from videojob.contract import (
    EXIT_BAD_INPUT,
    Failure,
    FailureReason,
    Result,
    parse_end_line,
    parse_termination_message,
)
from videojob.operator.builders import RENDERER_CONTAINER, SCRATCH_DIR, build_renderer_job, build_spec_configmap
from videojob.operator.settings import OperatorSettings
from videojob.spec import RENDERER_SPEC_FILE, VideoJobSpec

from .conftest import VIDEOJOB

pytestmark = pytest.mark.minio

LECTURE = "# Levers\n\nA lever trades force for distance.\n\n## The rule\n\n$$ F_1 d_1 = F_2 d_2 $$\n"


def _pod_run(
    minio_server, tmp_path: Path, source: dict, *, unchecked_spec: dict | None = None
) -> tuple[subprocess.CompletedProcess, Result | Failure | None, str]:
    """``unchecked_spec``: the spec file as an operator from before a check would have written it."""
    videojob = {
        "apiVersion": "videojob.dev/v1alpha1",
        "kind": "VideoJob",
        "metadata": {"name": "levers", "namespace": "school", "uid": "0f0e-1234"},
        "spec": {"source": source, "quality": "low", "theme": "physics"},
    }
    settings = OperatorSettings(s3_endpoint=f"http://{minio_server.endpoint}", s3_bucket=minio_server.bucket)
    job = build_renderer_job(videojob, settings)
    configmap = build_spec_configmap(videojob, VideoJobSpec.model_validate(videojob["spec"]))
    container = next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == RENDERER_CONTAINER)
    assert "args" not in container and "command" not in container  # the image's entrypoint: videojob render

    secrets = {"accessKey": minio_server.access_key, "secretKey": minio_server.secret_key}
    scratch = tmp_path / "scratch"
    (scratch / "tmp").mkdir(parents=True)
    spec_dir = tmp_path / "etc-videojob"
    spec_dir.mkdir()
    spec_file = configmap["data"][RENDERER_SPEC_FILE] if unchecked_spec is None else json.dumps(unchecked_spec)
    (spec_dir / RENDERER_SPEC_FILE).write_text(spec_file)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_PROGRESS": "json",
        "VIDEOJOB_TERMINATION_LOG": str(tmp_path / "termination-log"),
    }  # the kubelet's file, moved
    for item in container["env"]:
        value = item["value"] if "value" in item else secrets[item["valueFrom"]["secretKeyRef"]["key"]]
        env[item["name"]] = value.replace(SCRATCH_DIR, str(scratch)).replace("/etc/videojob", str(spec_dir))
    run = subprocess.run([str(VIDEOJOB), "render"], env=env, capture_output=True, text=True, timeout=180, cwd=scratch)
    termination = (tmp_path / "termination-log").read_text()
    return run, parse_termination_message(termination), env["VIDEOJOB_OUTPUT_PREFIX"]


def test_a_markdown_videojob_renders_from_the_pod_environment_into_its_output_prefix(minio_server, tmp_path):
    run, result, prefix = _pod_run(minio_server, tmp_path, {"markdown": LECTURE})
    assert run.returncode == 0, run.stderr
    assert isinstance(result, Result)
    assert result.output.key == f"{prefix.strip('/')}/video.mp4"
    assert result.output.key.startswith("outputs/school/levers/0f0e-1234/")
    stat = minio_server.client().stat_object(minio_server.bucket, result.output.key)
    assert stat.size == result.output.size_bytes and stat.metadata["x-amz-meta-sha256"] == result.output.sha256
    assert result.usage.scenes_rendered + result.usage.scenes_cached == 2
    assert result.output.contact_sheet == f"{prefix.strip('/')}/contact-sheet.png"  # drawn in the Pod's scratch
    assert minio_server.client().stat_object(minio_server.bucket, result.output.contact_sheet).size > 0
    assert not (tmp_path / "scratch" / "out").exists()  # nothing written outside the bucket but scratch
    # The end said on the progress stream too, the operator's head start on the kubelet: the last line there.
    assert parse_end_line(run.stdout.splitlines()[-1]) == result


def test_a_storyboard_videojob_with_injected_latex_fails_as_bad_input(minio_server, tmp_path):
    storyboard = {
        "title": "Bad",
        "scenes": [{"template": "equation", "latex": r"\input{/etc/hostname}", "narration": "Look."}],
    }
    # The operator refuses it before any Job (the spec model runs the LaTeX guard); a spec file
    # written without that check still fails in the renderer as bad input, never retried.
    with pytest.raises(ValidationError, match=r"latex: \\input is not allowed"):
        VideoJobSpec.model_validate({"source": {"storyboard": storyboard}})
    unchecked = {"source": {"storyboard": storyboard}, "quality": "low", "theme": "physics"}
    run, failure, _ = _pod_run(minio_server, tmp_path, {"markdown": LECTURE}, unchecked_spec=unchecked)
    assert run.returncode == EXIT_BAD_INPUT
    assert isinstance(failure, Failure)
    assert failure.reason == FailureReason.INVALID_SPEC
    assert r"\input is not allowed" in failure.message

"""The real ``videojob render`` CLI: in the Pod's configuration (the environment the operator's Job
gives it) stderr is JSON lines naming the VideoJob and stdout is only the progress lines; on a
terminal the same failure is the plain ``videojob: error: ...`` line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

from videojob.contract import parse_progress_line
from videojob.operator.builders import RENDERER_SPEC_FILE, build_renderer_job, build_spec_configmap
from videojob.operator.settings import OperatorSettings
from videojob.spec import VideoJobSpec

VIDEOJOB = Path(sys.executable).parent / "videojob"  # the console script the image's ENTRYPOINT runs
UID = "6a1f7c1e-3b8d-4d0a-9c1e-5f2b7a9d0e11"
# A prompt with no API key: the renderer fails at once (LLMUnavailable), after its first progress line.
VIDEOJOB_OBJECT = {
    "apiVersion": "videojob.dev/v1alpha1",
    "kind": "VideoJob",
    "metadata": {"name": "sky", "namespace": "team-a", "uid": UID, "generation": 1},
    "spec": {"source": {"prompt": "Why is the sky blue?"}, "llm": {"provider": "openai"}},
}


def _pod_environment(tmp_path: Path) -> dict[str, str]:
    """The renderer container's environment as the operator builds it; paths moved into tmp_path."""
    job = build_renderer_job(VIDEOJOB_OBJECT, OperatorSettings())
    [container] = job["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    spec = build_spec_configmap(VIDEOJOB_OBJECT, VideoJobSpec.model_validate(VIDEOJOB_OBJECT["spec"]))
    spec_file = tmp_path / RENDERER_SPEC_FILE
    spec_file.write_text(spec["data"][RENDERER_SPEC_FILE])
    return env | {
        "VIDEOJOB_SPEC_FILE": str(spec_file),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path / "tmp"),
        "VIDEOJOB_TERMINATION_LOG": str(tmp_path / "termination-log"),
        "PATH": f"{VIDEOJOB.parent}:/usr/bin:/bin",
        "PYTHONSAFEPATH": "1",
    }


def test_in_the_pod_stderr_is_json_naming_the_videojob_and_stdout_only_progress(tmp_path: Path) -> None:
    env = _pod_environment(tmp_path)
    assert env["VIDEOJOB_LOG_FORMAT"] == "json"  # the operator asks for it
    run = subprocess.run([str(VIDEOJOB), "render"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode != 0, run.stderr
    stdout = run.stdout.splitlines()
    assert stdout and all(parse_progress_line(line) for line in stdout), run.stdout
    lines: list[dict[str, Any]] = [json.loads(line) for line in run.stderr.splitlines()]  # raises if not JSON
    [error] = [line for line in lines if line["level"] == "error"]
    assert error["videojob"] == {"namespace": "team-a", "name": "sky", "uid": UID}
    assert error["reason"] == "LLMUnavailable" and error["message"].startswith("error: LLMUnavailable: ")
    assert all(line["videojob"]["uid"] == UID for line in lines)


def test_on_a_terminal_the_same_failure_is_one_plain_line(tmp_path: Path) -> None:
    env = _pod_environment(tmp_path)
    del env["VIDEOJOB_LOG_FORMAT"]  # a person's shell: the default
    controller, terminal = pty.openpty()
    try:
        run = subprocess.run(
            [str(VIDEOJOB), "render", "--progress", "none", "--prompt", "Why is the sky blue?"],
            stdout=subprocess.PIPE,
            stderr=terminal,
            env={key: value for key, value in env.items() if key != "VIDEOJOB_SPEC_FILE"},
            timeout=120,
        )
        os.close(terminal)
        terminal = -1
        written = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the other side is closed and everything is read
                break
            if not chunk:
                break
            written += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    text = written.decode().replace("\r\n", "\n")
    assert run.returncode != 0, text
    assert text.startswith("videojob: error: LLMUnavailable: "), text
    assert '"level"' not in text and UID not in text

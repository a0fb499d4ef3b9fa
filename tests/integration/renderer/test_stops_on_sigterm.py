"""Kubernetes stops a Pod with SIGTERM: the renderer (PID 1 in its container) must stop at once, workers too."""

import os
import signal
import subprocess
import time
from pathlib import Path

from support import REPO_ROOT
from videojob.contract import parse_progress_line

from .conftest import VIDEOJOB


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_sigterm_during_rendering_exits_143_quickly_and_leaves_no_workers(tmp_path):
    env = {
        **os.environ,
        "PYTHONSAFEPATH": "1",
        "VIDEOJOB_PROGRESS": "json",
        "VIDEOJOB_QUALITY": "low",
        "VIDEOJOB_CACHE": "off",
        "VIDEOJOB_TERMINATION_LOG": str(tmp_path / "termination-log"),
        "VIDEOJOB_MAX_PARALLEL_SCENES": "2",
    }
    process = subprocess.Popen(
        [str(VIDEOJOB), "render", str(REPO_ROOT / "examples" / "lecture.md"), "-o", f"file://{tmp_path}/out"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        for line in process.stdout:
            event = parse_progress_line(line)
            if event and event.phase == "Rendering":
                break
        time.sleep(1.0)  # the scene workers are forked by now
        workers = _children(process.pid)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        returncode = process.wait(timeout=10)
        stopped_in = time.monotonic() - started
    finally:
        process.kill()
        process.wait()
        stderr = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert returncode == 128 + signal.SIGTERM, stderr
    assert stopped_in < 3
    assert stderr.strip().endswith("videojob: terminated")
    assert workers, "expected forked scene workers"
    time.sleep(0.5)
    assert not [pid for pid in workers if _running(pid)]
    assert not (tmp_path / "out" / "video.mp4").exists()
    assert not (tmp_path / "termination-log").exists()

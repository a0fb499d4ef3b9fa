"""Start, watch and stop the local components (etcd, API server, MinIO...).

Each component runs in its own session (so a stop reaches all of its children),
writes its log to a file under the state directory, and is waited on through a
readiness probe. When a component fails to start, the error carries the tail of
its log: the one thing a newcomer needs to see.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

PR_SET_PDEATHSIG = 1
LOG_TAIL_LINES = 25
T = TypeVar("T")


class StartError(RuntimeError):
    """A component did not start; the message names it and says what to do."""


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join("    " + line for line in content[-lines:]) or "    (log is empty)"


# Ports for servers the tests start, below Linux's ephemeral range (32768-60999 by default, where
# the kernel picks every outgoing connection's source port and every bind to port 0) and below
# Kubernetes' NodePort range (30000-32767): a port checked free here is not taken by a client's
# connection before its server binds it, which a port from bind(("", 0)) could be.
SERVER_PORTS = range(20000, 30000)
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port no one listens on now, from :data:`SERVER_PORTS`, never the same twice in a process."""
    rng = random.Random()
    for _ in range(500):
        port = rng.choice(SERVER_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise StartError(f"no free port on {host} in {SERVER_PORTS.start}-{SERVER_PORTS.stop - 1} after 500 tries")


def require_free_port(port: int, host: str, *, what: str, hint: str) -> int:
    """Fail with one clear line when a fixed port is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StartError(f"port {port} on {host} is in use, so {what} cannot listen there: {hint}") from None
            raise
    return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclasses.dataclass
class Component:
    """One long-running process of the local environment."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] | None = None
    tie_to_parent: bool = True  # tests: die with pytest; `hack/cluster up`: outlive the command
    process: subprocess.Popen | None = None
    pid: int | None = None

    @classmethod
    def launch(
        cls, name: str, argv: Sequence[str], log_dir: Path, *, tie_to_parent: bool, env: dict[str, str] | None = None
    ) -> Component:
        """Start a component that logs to ``log_dir/<name>.log``."""
        component = cls(name, argv, log_dir / f"{name}.log", env=env, tie_to_parent=tie_to_parent)
        component.start()
        return component

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.tie_to_parent else None,
            )
        self.pid = self.process.pid

    @property
    def started_pid(self) -> int:
        """The pid of a component that start() has run for."""
        if self.pid is None:
            raise StartError(f"{self.name} was never started")
        return self.pid

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.pid is not None and pid_alive(self.pid)

    def wait_ready(self, probe: Callable[[], bool], timeout: float, *, poll: float = 0.1) -> float:
        """Seconds until ``probe`` answered True; StartError with the log tail otherwise."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.running():
                code = self.process.returncode if self.process else "?"
                raise StartError(
                    f"{self.name} exited with code {code} while starting; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if probe():
                return time.monotonic() - started
            time.sleep(poll)
        raise StartError(
            f"{self.name} was not ready after {timeout:.0f}s; last lines of {self.log_path}:\n{log_tail(self.log_path)}"
        )

    def stop(self, grace: float = 10.0) -> None:
        if self.pid is None:
            return
        stop_session(self.pid, grace)
        if self.process is not None:
            self.process.wait(timeout=grace)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def stop_session(pid: int, grace: float) -> None:
    """SIGTERM the component's whole session, then SIGKILL whatever is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:  # not our child (started by an earlier command)
                if not pid_alive(pid):
                    return
            time.sleep(0.05)


def https_ok(url: str, *, context: ssl.SSLContext | None = None, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def insecure_tls() -> ssl.SSLContext:
    """For health probes of loopback components that serve a self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def wait_for(
    check: Callable[[], T | None], timeout: float = 20, what: str = "a condition", *, interval: float = 0.1
) -> T:
    """Poll ``check`` until it returns something truthy, and return that.

    The one poller of the dev environment, its tests and benchmarks. On timeout the
    TimeoutError says what was awaited and what ``check`` last returned, which is
    usually the clue (a Pod's phase, the events so far).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            shown = repr(value)
            shown = shown if len(shown) <= 600 else shown[:600] + "..."
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}; last value: {shown}")
        time.sleep(interval)


@dataclasses.dataclass(frozen=True)
class ProcessRecord:
    """A JSON file naming the processes a command left running (``hack/cluster up``),
    so that a later command can report on them and stop them."""

    path: Path

    def write(self, pids: dict[str, int], **details: object) -> None:
        self.path.write_text(json.dumps(details | {"pids": pids}, indent=2))
        self.path.chmod(0o600)  # it may hold credentials (MinIO's)

    def read(self) -> dict | None:
        """What was recorded, plus ``running``: each process's liveness; None when nothing was."""
        if not self.path.exists():
            return None
        saved = json.loads(self.path.read_text())
        return saved | {"running": {name: pid_alive(pid) for name, pid in saved["pids"].items()}}

    def stop(self, *, then: Callable[[dict], None] | None = None, grace: float = 10.0) -> dict | None:
        """Stop every recorded process, the last started first, run ``then`` (host clean-up),
        and only then forget the record, so a crash half-way leaves it for the next try.
        Returns the record, or None when nothing was recorded."""
        saved = self.read()
        if saved is None:
            return None
        for pid in reversed(list(saved["pids"].values())):
            stop_session(pid, grace)
        if then is not None:
            then(saved)
        self.path.unlink(missing_ok=True)
        return saved

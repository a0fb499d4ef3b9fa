"""The chart installed on the local node, as `hack/demo` and tests/e2e install it.

What differs from a user's install is only what the values name: the images imported into
the node (no registry), the MinIO on the node's bridge as S3, one gateway replica on a
two-core machine, and the namespaces the operator watches. Everything else is the chart's
defaults. ``port_forward`` is how the host reaches a Service (``kubectl port-forward``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from videojob_devenv import REPO_ROOT, tools
from videojob_devenv.images import Image

CHART_DIR = REPO_ROOT / "charts" / "videojob"
RESTRICTED_LABELS = tuple(f"pod-security.kubernetes.io/{mode}=restricted" for mode in ("enforce", "warn", "audit"))
_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) ->")


def image_values(key: str, image: Image) -> list[str]:
    """``key.repository``, ``key.tag`` and ``key.pullPolicy`` for an image already on the node."""
    repository, tag = image.ref.rsplit(":", 1)
    return [f"{key}.repository={repository}", f"{key}.tag={tag}", f"{key}.pullPolicy=IfNotPresent"]


@dataclass(frozen=True)
class LocalRelease:
    """The values of a release on the local node; ``sets()`` gives them as ``--set`` strings."""

    controlplane: Image
    renderer: Image
    s3_endpoint: str  # as Pods reach it, e.g. http://10.244.0.1:9000
    bucket: str
    s3_secret: str  # in the release namespace: the operator's, gateway's and renderers' keys
    watch_namespaces: Sequence[str]
    keys_namespace: str
    max_concurrent_renders: int = 2

    def sets(self) -> list[str]:
        return [
            *image_values("image", self.controlplane),
            *image_values("renderer.image", self.renderer),
            f"s3.endpoint={self.s3_endpoint}",
            f"s3.bucket={self.bucket}",
            f"s3.credentialsSecret={self.s3_secret}",
            f"s3.jobSecretName={self.s3_secret}",
            f"operator.watchNamespaces={{{','.join(self.watch_namespaces)}}}",
            f"operator.maxConcurrentRenders={self.max_concurrent_renders}",
            f"gateway.keysNamespace={self.keys_namespace}",
            # Two shared cores: one gateway replica, no autoscaler.
            "gateway.autoscaling.enabled=false",
            "gateway.replicas=1",
        ]


def helm(kubeconfig: Path, namespace: str, *args: str, timeout: float = 720) -> subprocess.CompletedProcess[str]:
    """Run the real helm against the local cluster; raise CalledProcessError with its output on failure."""
    argv = [str(tools.require_binary("helm")), *args, f"--kubeconfig={kubeconfig}", f"--namespace={namespace}"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)
    if completed.returncode != 0:
        raise subprocess.CalledProcessError(completed.returncode, argv, completed.stdout, completed.stderr)
    return completed


@contextmanager
def port_forward(kubeconfig: Path, namespace: str, target: str, port: int) -> Iterator[str]:
    """``kubectl port-forward target :port`` on loopback; yields the local base URL."""
    with subprocess.Popen(
        [
            str(tools.require_binary("kubectl")), f"--kubeconfig={kubeconfig}", "-n", namespace,
            "port-forward", target, f":{port}", "--address=127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None and process.stderr is not None
            line = process.stdout.readline()
            match = _FORWARDING.search(line)
            if match is None:
                process.kill()
                why = f"{line}{process.stderr.read()}".strip()
                raise RuntimeError(f"kubectl port-forward {target} did not start: {why}")
            yield f"http://127.0.0.1:{match[1]}"
        finally:
            process.terminate()
            process.wait(10)

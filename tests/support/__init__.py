"""What the tests share, in one place: paths, the poller, object factories, the operator launcher,
and the operator tier's stand-ins (:mod:`support.stand_ins`: a fake Node, the stand-in renderer,
the stand-in kubelet's log endpoint, and their fixtures), and the gateway tier's
(:mod:`support.gateway`: the gateway process and a tenant; :mod:`support.gateway_renderer`: the
stand-in renderer that uploads real files).

Importable as ``support`` (pytest puts ``tests/`` on sys.path; the repository root itself must
stay off it, where ``operator/`` would shadow the standard library). The machinery itself
lives in the dev environment (``videojob_devenv``, hack/devenv), which the benchmarks and
``hack/`` commands use too; this package is the thin pytest side of it.
"""

from support.launcher import launch_operator
from videojob_devenv import REPO_ROOT
from videojob_devenv.objects import namespace_name, videojob_manifest
from videojob_devenv.operator_process import OperatorProcess
from videojob_devenv.processes import wait_for

CRD_DIR = REPO_ROOT / "manifests" / "crd"
SAMPLES_DIR = REPO_ROOT / "manifests" / "samples"
DATA_DIR = REPO_ROOT / "tests" / "data"

__all__ = [
    "CRD_DIR",
    "DATA_DIR",
    "REPO_ROOT",
    "SAMPLES_DIR",
    "OperatorProcess",
    "launch_operator",
    "namespace_name",
    "videojob_manifest",
    "wait_for",
]

"""The development environment: a local control plane, a node, images, MinIO, the operator as a process.

Dev-only, like controller-runtime's envtest: it lives beside ``hack/`` and is not part of
the product's wheel or image. ``hack/bootstrap`` installs it editable, so that
:data:`REPO_ROOT` is the checkout it came from.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

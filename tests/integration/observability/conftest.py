"""The operator tier's stand-ins, reused: the real control plane, a cordoned fake Node, a stand-in
kubelet serving the renderer's log lines, and the stand-in renderer (tests/support/stand_ins.py);
and the gateway tier's real gateway process under its own ServiceAccount (tests/support/gateway.py).

The stand-in renderer plays the renderer Pod's part through the API server exactly as the
operator tests do: it binds the Pod, patches its status and writes the termination message.
"""

from __future__ import annotations

from support.gateway import (  # noqa: F401 - fixtures, re-exported for this directory
    create_tenant,
    gateway_kubeconfig,
    start_gateway,
)
from support.stand_ins import (  # noqa: F401 - fixtures, re-exported for this directory
    cluster,
    fake_kubelet,
    fake_node,
    start_operator,
)

"""How the operator and the gateway find and talk to their API server: one rule for both.

In a Pod, its ServiceAccount (the in-cluster config); elsewhere, ``$KUBECONFIG`` or
``~/.kube/config``. The renderer never imports this module: its Pods hold no API credentials.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import kubernetes


def load_configuration() -> kubernetes.client.Configuration:
    """The client configuration for this process's API server (see the module docstring)."""
    # Imported here: kubernetes is the operator's and the gateway's dependency (their extras in
    # pyproject.toml), not the core's, and the renderer image does not install it.
    import kubernetes

    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)
    return configuration


def ssl_context(configuration: kubernetes.client.Configuration) -> ssl.SSLContext | bool:
    """The configuration's CA, verification and client certificate as an ssl context, for the
    aiohttp sessions (the gateway's calls and watches, the operator's log streams); False for http."""
    if not configuration.host.startswith("https"):
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    if not configuration.verify_ssl:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    return context

"""Unix socket paths may not exceed 108 bytes; a test's temporary directory easily does.

The node's sockets (containerd's, and the kubelet's pod-resources and device-plugin
sockets under its root dir) must not depend on how deep the state directory is.
"""

from videojob_devenv.nodehost import Slot, runtime_socket

UNIX_PATH_MAX = 108


def test_node_sockets_stay_short_whatever_the_state_directory(tmp_path):
    deep_state = tmp_path / ("very-long-test-name-" * 8) / "cluster" / "node"
    slot = Slot(7)
    kubelet_sockets = [
        slot.kubelet_root / "pod-resources" / "3096973790",
        slot.kubelet_root / "device-plugins" / "kubelet.sock",
    ]
    for socket in [runtime_socket(deep_state), *kubelet_sockets]:
        assert len(str(socket).encode()) < UNIX_PATH_MAX, socket
    assert deep_state not in slot.kubelet_root.parents

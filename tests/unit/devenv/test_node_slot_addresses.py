"""Two nodes on one machine never share an address, a link or a chain name, and none of
theirs collides with the Service range or the API server's advertised address."""

import ipaddress
import itertools

from videojob_devenv.controlplane import (
    APISERVER_ADVERTISE_ADDRESS,
    CLUSTER_DNS_IP,
    KUBERNETES_SERVICE_IP,
    SERVICE_CLUSTER_IP_RANGE,
)
from videojob_devenv.nodehost import SLOTS, Slot

IFNAMSIZ = 16  # a Linux interface name holds 15 characters


def networks(slot: Slot) -> list[ipaddress.IPv4Network]:
    return [ipaddress.IPv4Network(slot.subnet), ipaddress.IPv4Network(f"{slot.gateway}/30", strict=False)]


def test_no_two_slots_share_an_address_range_or_a_name():
    for first, second in itertools.combinations(map(Slot, SLOTS), 2):
        assert not any(a.overlaps(b) for a in networks(first) for b in networks(second)), (first, second)
        names = {first.netns, first.host_link, first.node_link, first.bridge, first.chain}
        assert names.isdisjoint({second.netns, second.host_link, second.node_link, second.bridge, second.chain})


def test_slot_addresses_stay_clear_of_services_and_the_advertised_api_server():
    services = ipaddress.ip_network(SERVICE_CLUSTER_IP_RANGE)
    advertised = ipaddress.ip_address(APISERVER_ADVERTISE_ADDRESS)
    assert ipaddress.ip_address(KUBERNETES_SERVICE_IP) in services
    assert ipaddress.ip_address(CLUSTER_DNS_IP) in services
    for slot in map(Slot, SLOTS):
        for network in networks(slot):
            assert not network.overlaps(services)
            assert advertised not in network
        assert ipaddress.ip_address(slot.pod_gateway) in ipaddress.ip_network(slot.subnet)
        assert ipaddress.ip_address(slot.node_ip) in networks(slot)[1]
        assert all(len(name) < IFNAMSIZ for name in (slot.host_link, slot.node_link, slot.bridge))

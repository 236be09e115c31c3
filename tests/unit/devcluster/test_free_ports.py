"""Free-port probing hands out distinct loopback ports that can be bound right away."""

import socket

from chargeops.devcluster import ports


def test_free_ports_are_distinct_and_bindable() -> None:
    found = ports.free_ports(5)

    assert len(set(found)) == 5
    for port in found:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind((ports.LOOPBACK, port))


def test_free_port_is_an_unprivileged_port() -> None:
    assert 1024 < ports.free_port() < 65536

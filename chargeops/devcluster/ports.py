"""Free TCP ports on loopback for etcd's client and peer listeners and kube-apiserver's secure port.

``controlplane`` picks them just before starting the processes. Another program can take a port between
our probe and the child's bind; ``controlplane`` retries the start with new ports when a log says
"address already in use", which is why a probe is good enough here.
"""

import socket
from contextlib import ExitStack

LOOPBACK = "127.0.0.1"


def free_ports(count: int, *, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct ports that were free on ``host`` a moment ago."""
    with ExitStack() as stack:
        ports = []
        # Keep every probe socket open until all are bound, so the kernel never hands out one twice.
        for _ in range(count):
            probe = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind((host, 0))
            ports.append(int(probe.getsockname()[1]))
        return ports


def free_port(*, host: str = LOOPBACK) -> int:
    """One port that was free on ``host`` a moment ago."""
    return free_ports(1, host=host)[0]

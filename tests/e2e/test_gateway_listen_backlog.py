"""Chargers that arrive while the gateway's event loop is busy wait in the kernel's queue for it, rather
than have their handshakes dropped: a reconnect storm's first second brings thousands at once."""

import contextlib
import select
import socket
from collections.abc import Iterator

import pytest

from chargeops.ocpp_gateway.app import LISTEN_BACKLOG
from tests.e2e.harness import gateway_settings, running_gateway

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

# More than asyncio's default backlog (100), fewer than the gateway's.
ARRIVING = 500


@contextlib.contextmanager
def arriving(port: int, count: int) -> Iterator[list[socket.socket]]:
    """``count`` TCP connections to ``port`` begun at once, closed afterwards."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            sockets.append(sock)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def established(sockets: list[socket.socket], wait_s: float) -> int:
    """How many of ``sockets`` completed their connection within ``wait_s`` (blocking: the event loop,
    and with it the gateway, does nothing meanwhile)."""
    poller = select.poll()
    for sock in sockets:
        poller.register(sock, select.POLLOUT)
    done = {fd for fd, _ in poller.poll(wait_s * 1000)}
    return sum(
        1 for sock in sockets if sock.fileno() in done and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_chargers_arriving_while_the_loop_is_busy_are_all_held_for_it(database_url: str) -> None:
    assert ARRIVING < LISTEN_BACKLOG
    async with running_gateway(gateway_settings(database_url)) as running:
        # The test's loop is the gateway's: while this runs synchronously, nothing is accepted.
        with arriving(running.gateway.ocpp_port, ARRIVING) as sockets:
            assert established(sockets, wait_s=2.0) == ARRIVING

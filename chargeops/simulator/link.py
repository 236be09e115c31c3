"""One websocket of a simulated charger: opening it, the ``ocpp`` ChargePoint reading it, and calls on it.

``station`` opens a ``Link`` per connection and sends every call through ``Link.call``, which gives up the
moment the connection closes (``NotConnectedError``) instead of waiting out the response timeout, so a
session or the outbox sees a lost connection at once. The frames are counted on the way through, and the
time of the last exchange is kept for the heartbeat ("interval of inactivity", OCPP 1.6 §9.1
HeartbeatInterval).
"""

import asyncio
import base64
import logging
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from chargeops.simulator import errors
from chargeops.simulator.clock import Clock
from chargeops.simulator.dialect import Dialect
from chargeops.simulator.state import ChargerState, Controls
from chargeops.simulator.station_config import StationConfig
from chargeops.simulator.stats import StationStats

# ocpp logs every frame at INFO, id tags included; this logger is quiet unless asked (``--wire-log``).
WIRE_LOGGER = logging.getLogger("chargeops.simulator.wire")


def open_websocket(config: StationConfig, *, subprotocol: str) -> Any:
    """The websocket handshake of ``config``'s charger (an async context manager)."""
    return connect(
        f"{config.gateway_url.rstrip('/')}/{config.charge_point_id}",
        subprotocols=[Subprotocol(subprotocol)],
        additional_headers=basic_auth(config.charge_point_id, config.password),
        ssl=config.ssl_context,
        open_timeout=config.response_timeout_s,
        ping_interval=None,  # OCPP has its own liveness (Heartbeat); gateways differ on websocket pings
        local_addr=(config.source_address, 0) if config.source_address else None,
    )


def basic_auth(charge_point_id: str, password: str | None) -> dict[str, str]:
    """Security profile 1 (OCPP 1.6 security whitepaper, 2.0.1 Part 2 A00): Basic, user = charge point id."""
    if password is None:
        return {}
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class Link:
    """An open websocket, the ocpp ChargePoint answering on it, and whether the charger has booted on it."""

    def __init__(
        self,
        websocket: ClientConnection,
        *,
        config: StationConfig,
        dialect: Dialect,
        state: ChargerState,
        controls: Controls,
        clock: Clock,
        stats: StationStats,
    ) -> None:
        self.websocket = websocket
        self.ready = False
        """Booted: calls other than BootNotification may go out (1.6 §4.2)."""
        self.closed = asyncio.Event()
        self.last_exchange = clock.now()
        self._clock = clock
        self._stats = stats
        self._charge_point_id = config.charge_point_id
        self.charge_point = dialect.charge_point(
            config.charge_point_id,
            _CountingConnection(self, websocket),
            state=state,
            controls=controls,
            response_timeout_s=config.response_timeout_s,
            logger=logging.LoggerAdapter(WIRE_LOGGER, {"charge_point_id": config.charge_point_id}),
        )

    async def serve(self) -> None:
        """Read and answer frames until the connection closes (then raises ``ConnectionClosed``)."""
        try:
            await self.charge_point.start()
        finally:
            self.closed.set()

    async def call(self, payload: Any) -> Any:
        """One call; ``NotConnectedError`` as soon as the connection is lost, ``OCPPError`` for a CALLERROR."""
        self.last_exchange = self._clock.now()
        call = asyncio.ensure_future(self.charge_point.call(payload, suppress=False))
        call.add_done_callback(_retrieve)
        lost = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({call, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not call.done():
                call.cancel()
        if not call.done() or call.cancelled():  # a cancelled task is done only once it has run again
            raise errors.NotConnectedError("the connection closed mid-call", charge_point_id=self._charge_point_id)
        try:
            result = call.result()
        except OCPPError:
            self._stats.call_errors += 1
            raise
        except TimeoutError:
            self._stats.call_timeouts += 1
            raise
        except ConnectionClosed as exc:
            raise errors.NotConnectedError(str(exc), charge_point_id=self._charge_point_id) from exc
        self._stats.calls_answered += 1
        return result

    async def close(self) -> None:
        """Close the websocket; ``serve()`` returns and pending calls fail."""
        await self.websocket.close()
        self.closed.set()


class _CountingConnection:
    """The websocket as ocpp sees it (``send``/``recv``), counting frames and marking activity."""

    def __init__(self, link: Link, websocket: ClientConnection) -> None:
        self._link = link
        self._websocket = websocket

    async def send(self, message: str) -> None:
        self._link._stats.frames_sent += 1
        await self._websocket.send(message)

    async def recv(self) -> str | bytes:
        message = await self._websocket.recv()
        self._link._stats.frames_received += 1
        self._link.last_exchange = self._link._clock.now()
        return message


def _retrieve(task: "asyncio.Future[Any]") -> None:
    """Mark a call's failure as seen: a call abandoned for a lost connection may still fail afterwards."""
    if not task.cancelled():
        task.exception()

"""A minimal central system on the ``ocpp`` library, for checking chargers without our gateway.

``test_simulator_against_reference_csms`` runs the simulated chargers and the Node ``ocpp-rpc`` charger
against it over real websockets on 127.0.0.1, so the chargers are checked on their own; the same tests can
later point at ``chargeops gateway``. It does only what a test needs: HTTP Basic on the upgrade, both
subprotocols, an answer to every charger-initiated action the chargers send (transaction ids from 1001), a
record of every call in arrival order, and ``call()`` to send the chargers ChangeConfiguration,
SendLocalList and the rest.
"""

import asyncio
import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

PASSWORD = "reference-csms-password-16+"


@dataclass
class Received:
    """One call a charger made."""

    charge_point_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class ReferenceCsms:
    """The state of the central system: who is connected, what arrived, which id tags are accepted."""

    accepted_tags: set[str] | None = None
    """Id tags answered Accepted; None accepts all (free charging)."""

    received: list[Received] = field(default_factory=list)
    connected: dict[str, Any] = field(default_factory=dict)
    port: int = 0
    _transaction_ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1001))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def record(self, charge_point_id: str, action: str, payload: dict[str, Any]) -> None:
        self.received.append(Received(charge_point_id, action, payload))
        self._changed.set()

    def actions(self, charge_point_id: str) -> list[str]:
        return [r.action for r in self.received if r.charge_point_id == charge_point_id]

    def of(self, charge_point_id: str, *actions: str) -> list[Received]:
        return [r for r in self.received if r.charge_point_id == charge_point_id and r.action in actions]

    def of_action(self, *actions: str) -> list[Received]:
        return [r for r in self.received if r.action in actions]

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def wait_connected(self, charge_point_id: str, timeout_s: float = 10.0) -> Any:
        await self.wait_for(lambda: charge_point_id in self.connected, timeout_s)
        return self.connected[charge_point_id]

    def status(self, id_tag: str) -> str:
        return "Accepted" if self.accepted_tags is None or id_tag in self.accepted_tags else "Invalid"

    def next_transaction_id(self) -> int:
        return next(self._transaction_ids)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class Csms16(ChargePoint16):  # type: ignore[misc]
    """The central system's side of one 1.6 connection."""

    def __init__(self, charge_point_id: str, connection: ServerConnection, csms: ReferenceCsms) -> None:
        super().__init__(charge_point_id, connection, response_timeout=2)
        self.csms = csms

    @on("BootNotification")
    def boot(self, **payload: Any) -> Any:
        self.csms.record(self.id, "BootNotification", payload)
        return result16.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("Heartbeat")
    def heartbeat(self, **payload: Any) -> Any:
        self.csms.record(self.id, "Heartbeat", payload)
        return result16.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def status_notification(self, **payload: Any) -> Any:
        self.csms.record(self.id, "StatusNotification", payload)
        return result16.StatusNotification()

    @on("Authorize")
    def authorize(self, id_tag: str, **payload: Any) -> Any:
        self.csms.record(self.id, "Authorize", {"id_tag": id_tag, **payload})
        return result16.Authorize(id_tag_info={"status": self.csms.status(id_tag)})

    @on("StartTransaction")
    def start_transaction(self, id_tag: str, **payload: Any) -> Any:
        transaction_id = self.csms.next_transaction_id()
        self.csms.record(self.id, "StartTransaction", {"id_tag": id_tag, "assigned": transaction_id, **payload})
        return result16.StartTransaction(
            transaction_id=transaction_id, id_tag_info={"status": self.csms.status(id_tag)}
        )

    @on("MeterValues")
    def meter_values(self, **payload: Any) -> Any:
        self.csms.record(self.id, "MeterValues", payload)
        return result16.MeterValues()

    @on("StopTransaction")
    def stop_transaction(self, **payload: Any) -> Any:
        self.csms.record(self.id, "StopTransaction", payload)
        return result16.StopTransaction()


class Csms201(ChargePoint201):  # type: ignore[misc]
    """The central system's side of one 2.0.1 connection."""

    def __init__(self, charge_point_id: str, connection: ServerConnection, csms: ReferenceCsms) -> None:
        super().__init__(charge_point_id, connection, response_timeout=2)
        self.csms = csms

    @on("BootNotification")
    def boot(self, **payload: Any) -> Any:
        self.csms.record(self.id, "BootNotification", payload)
        return result201.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on("Heartbeat")
    def heartbeat(self, **payload: Any) -> Any:
        self.csms.record(self.id, "Heartbeat", payload)
        return result201.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def status_notification(self, **payload: Any) -> Any:
        self.csms.record(self.id, "StatusNotification", payload)
        return result201.StatusNotification()

    @on("Authorize")
    def authorize(self, id_token: dict[str, Any], **payload: Any) -> Any:
        self.csms.record(self.id, "Authorize", {"id_token": id_token, **payload})
        return result201.Authorize(id_token_info={"status": self.csms.status(id_token["id_token"])})

    @on("TransactionEvent")
    def transaction_event(self, **payload: Any) -> Any:
        self.csms.record(self.id, "TransactionEvent", payload)
        token = payload.get("id_token")
        if token is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(id_token_info={"status": self.csms.status(token["id_token"])})

    @on("MeterValues")
    def meter_values(self, **payload: Any) -> Any:
        self.csms.record(self.id, "MeterValues", payload)
        return result201.MeterValues()


async def start(csms: ReferenceCsms) -> Server:
    """Listen on a free loopback port (``csms.port``) until the returned server is closed."""

    def authenticate(connection: ServerConnection, request: Request) -> Response | None:
        charge_point_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        expected = "Basic " + base64.b64encode(f"{charge_point_id}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong charge point id or password\n")
        return None

    async def serve_charger(connection: ServerConnection) -> None:
        assert connection.request is not None
        charge_point_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
        central: Any = (Csms16 if connection.subprotocol == "ocpp1.6" else Csms201)(charge_point_id, connection, csms)
        csms.connected[charge_point_id] = central
        csms._changed.set()
        try:
            await central.start()
        except Exception:  # noqa: S110  # a closed connection ends the session; nothing to report
            pass
        finally:
            if csms.connected.get(charge_point_id) is central:
                del csms.connected[charge_point_id]
            csms._changed.set()

    server = await serve(
        serve_charger,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
        process_request=authenticate,
    )
    csms.port = next(iter(server.sockets)).getsockname()[1]
    return server

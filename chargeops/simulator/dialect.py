"""What differs between the OCPP 1.6 and 2.0.1 simulators, as one interface the station drives.

``station`` and ``sessions`` speak of boots, statuses, authorizations and transaction messages; ``v16`` and
``v201`` each implement ``Dialect`` to turn those into the ``ocpp`` library's call classes and back, and to
make the ``ChargePoint`` whose handlers answer the gateway. Payloads are the library's keyword arguments
(snake_case); the library turns them into camelCase JSON and validates them against the OCPP schemas.

``on`` and ``after`` are the library's routing decorators with types, so handler methods stay typed under
``mypy --strict`` (the library itself is untyped).
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

from ocpp import routing

from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.simulator.local_list import IdTagInfo
from chargeops.simulator.offline import LocalRef
from chargeops.simulator.state import ChargerState, ConnectorStatus, Controls, Faults, Session

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def on(action: str) -> Callable[[_Handler], _Handler]:
    """``ocpp.routing.on``: the method answers ``action``."""
    return cast(Callable[[_Handler], _Handler], routing.on(action))


def after(action: str) -> Callable[[_Handler], _Handler]:
    """``ocpp.routing.after``: the method runs after the answer to ``action`` was sent."""
    return cast(Callable[[_Handler], _Handler], routing.after(action))


@dataclass(frozen=True)
class BootResult:
    """BootNotification's answer."""

    status: str  # Accepted, Pending, Rejected
    interval_s: int


@dataclass(frozen=True)
class TxAck:
    """The answer to a transaction-related message, as far as the charger acts on it."""

    transaction_id: int | None = None
    """1.6 StartTransaction.conf transactionId."""

    id_tag_info: IdTagInfo | None = None
    """The central system's verdict on the id tag, where the answer carries one."""


@dataclass(frozen=True)
class Draft:
    """A transaction-related message, made and ready to queue."""

    action: str
    payload: dict[str, Any]
    local_ref: LocalRef | None = None
    starts_transaction: bool = False
    ends_transaction: bool = False


class Dialect(Protocol):
    """One OCPP version, seen from the charger."""

    version: OcppVersion
    subprotocol: str

    def charge_point(
        self,
        charge_point_id: str,
        connection: Any,
        *,
        state: ChargerState,
        controls: Controls,
        response_timeout_s: float,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    ) -> Any:
        """The ``ocpp`` ChargePoint for one connection, answering the gateway's calls from ``state``."""

    def boot(self, *, vendor: str, model: str, firmware_version: str, serial_number: str, reason: str) -> Any:
        """BootNotification; ``reason`` is 2.0.1 BootReasonEnumType (PowerUp, RemoteReset, …)."""

    def parse_boot(self, result: Any) -> BootResult:
        """BootNotification's answer."""

    def heartbeat(self) -> Any:
        """Heartbeat."""

    def status(self, connector_id: int, status: ConnectorStatus, *, at: datetime) -> Any:
        """StatusNotification for one connector."""

    def authorize(self, id_tag: str) -> Any:
        """Authorize."""

    def parse_authorize(self, result: Any) -> IdTagInfo:
        """Authorize's verdict."""

    def started(self, session: Session, *, at: datetime, offline: bool) -> Draft:
        """The first message of a transaction (StartTransaction / TransactionEvent Started)."""

    def sampled(self, session: Session, *, register_wh: int, power_w: int, at: datetime, offline: bool) -> Draft:
        """A periodic meter sample in a transaction (MeterValues / TransactionEvent Updated)."""

    def stopped(self, session: Session, *, register_wh: int, reason: str, at: datetime, offline: bool) -> Draft:
        """The last message of a transaction; ``reason`` is a 1.6 Reason (StopTransaction / Ended)."""

    def transaction_call(self, action: str, payload: dict[str, Any]) -> Any:
        """The call object of a queued message."""

    def parse_ack(self, action: str, result: Any) -> TxAck:
        """The answer to a queued message."""

    def meter_values(self, connector_id: int, *, register_wh: int, at: datetime) -> Any:
        """MeterValues outside the transaction queue (TriggerMessage MeterValues)."""

    def idle_notification(self, message: str) -> Any:
        """A triggered Diagnostics/FirmwareStatusNotification: nothing is being uploaded or installed."""


def is_unanswered(raw_message: str, faults: Faults, *, keys_of: Callable[[str, dict[str, Any]], list[str]]) -> bool:
    """Whether ``faults`` say the charger never answers this incoming frame (a CALL of a silenced action, or a
    configuration change touching a silenced key, named by ``keys_of(action, payload)``)."""
    if not (faults.unanswered or faults.unanswered_actions):
        return False
    try:
        frame = json.loads(raw_message)
    except ValueError:
        return False
    # OCPP-J: a CALL is [2, uniqueId, action, payload].
    if not (isinstance(frame, list) and len(frame) == 4 and frame[0] == 2 and isinstance(frame[3], dict)):
        return False
    action, payload = str(frame[2]), frame[3]
    return action in faults.unanswered_actions or any(key in faults.unanswered for key in keys_of(action, payload))

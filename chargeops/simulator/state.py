"""What one simulated charger holds between messages, and the seams between its parts.

The ``v16`` / ``v201`` handlers answer the gateway from a ``ChargerState`` (configuration or device model,
local list, cache, connectors) and ask the station for anything that needs further messages through
``Controls`` (a remote start runs an Authorize and a StartTransaction, which a handler must not await: the
``ocpp`` library reads the next frame only after the handler returns). ``Settings`` is what the charger does
because of its configuration, the same properties over 1.6 keys and 2.0.1 variables.
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chargeops.simulator.local_list import AuthorizationCache, LocalAuthorizationList
from chargeops.simulator.meter import MeterRegister, PowerProfile
from chargeops.simulator.offline import LocalRef, TransactionQueue


class Settings(Protocol):
    """The behaviour a configuration selects (``ConfigurationStore`` for 1.6, ``DeviceModel`` for 2.0.1)."""

    @property
    def heartbeat_interval_s(self) -> int: ...
    @property
    def sample_interval_s(self) -> int: ...
    @property
    def authorization_enabled(self) -> bool: ...
    @property
    def authorize_remote_start(self) -> bool: ...
    @property
    def local_list_enabled(self) -> bool: ...
    @property
    def local_authorize_offline(self) -> bool: ...
    @property
    def local_pre_authorize(self) -> bool: ...
    @property
    def offline_unknown_allowed(self) -> bool: ...
    @property
    def cache_enabled(self) -> bool: ...
    @property
    def stop_on_invalid_id(self) -> bool: ...
    @property
    def message_attempts(self) -> int: ...
    @property
    def message_retry_interval_s(self) -> int: ...
    @property
    def local_list_max_length(self) -> int: ...
    @property
    def send_local_list_max_length(self) -> int: ...

    def set_heartbeat_interval(self, seconds: int) -> None: ...

    def reboot(self) -> list[str]: ...


@dataclass(frozen=True)
class Faults:
    """Misbehaviour on purpose, for the gateway's fault tests. Keys are 1.6 key names or 2.0.1
    ``Component.Variable`` names."""

    rejected: frozenset[str] = frozenset()
    """Changes of these keys are answered Rejected, whatever the value."""

    not_supported: frozenset[str] = frozenset()
    """These keys do not exist: NotSupported / unknownKey (1.6), UnknownVariable (2.0.1)."""

    unanswered: frozenset[str] = frozenset()
    """A ChangeConfiguration / SetVariables touching these keys is never answered (the caller times out)."""

    unanswered_actions: frozenset[str] = frozenset()
    """Calls of these actions (e.g. ``SendLocalList``) are never answered."""


# Changes kept per charger: enough for every test and demo, bounded for a fleet of thousands.
CHANGES_KEPT = 1000


@dataclass(frozen=True)
class ReceivedChange:
    """One change the central system asked of the charger, and the charger's answer."""

    action: str
    """ChangeConfiguration, SetVariables (one per variable) or SendLocalList."""

    subject: str
    """The 1.6 key or 2.0.1 ``Component.Variable``; for SendLocalList the update type (Full, Differential)."""

    value: str
    """The value asked for; for SendLocalList the list version."""

    status: str
    """The charger's answer: Accepted, Rejected, RebootRequired, VersionMismatch, …"""


class ConnectorStatus(StrEnum):
    """1.6 ChargePointStatus; ``v201`` maps them onto 2.0.1 ConnectorStatusEnumType."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"  # an id tag was presented, authorization under way
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"  # the EV stopped drawing: its battery is full
    FINISHING = "Finishing"
    UNAVAILABLE = "Unavailable"  # ChangeAvailability Inoperative
    FAULTED = "Faulted"


@dataclass
class Session:
    """One charging session on a connector, from authorization to StopTransaction."""

    connector_id: int
    id_tag: str
    started_at: datetime
    meter_start_wh: int
    profile: PowerProfile
    local_ref: LocalRef | None = None
    """1.6: the queue's handle on the transaction until the central system numbers it."""

    transaction_id: str | None = None
    """2.0.1: the station-made transactionId. 1.6: the central system's id, once known, as a string."""

    seq_no: int = 0
    """2.0.1: the seqNo of the next TransactionEvent of this transaction."""

    remote_start_id: int | None = None
    """2.0.1 RequestStartTransaction remoteStartId, echoed in the Started event."""

    last_sample_at: datetime | None = None
    """When the register was last advanced for this session."""

    def next_seq_no(self) -> int:
        """Take the seqNo for the next TransactionEvent (2.0.1 E01: one counter per transaction)."""
        seq_no = self.seq_no
        self.seq_no += 1
        return seq_no


@dataclass
class Connector:
    """One connector (1.6) or EVSE with one connector (2.0.1) and its energy meter."""

    connector_id: int
    status: ConnectorStatus = ConnectorStatus.AVAILABLE
    register: MeterRegister = field(default_factory=MeterRegister)
    session: Session | None = None
    operative: bool = True
    """False after ChangeAvailability Inoperative (now, or when the running session ends)."""

    @property
    def is_free(self) -> bool:
        """Whether a new session may start here."""
        return self.operative and self.session is None and self.status is ConnectorStatus.AVAILABLE


class Controls(Protocol):
    """What handlers ask of the station after answering; each call schedules work and returns at once."""

    def remote_start(self, id_tag: str, connector_id: int, *, remote_start_id: int | None = None) -> None:
        """Start a session on ``connector_id`` for ``id_tag`` (authorizing first if configured to)."""

    def remote_stop(self, connector_id: int) -> None:
        """Stop the session on ``connector_id`` with reason Remote."""

    def reset(self, *, hard: bool) -> None:
        """Stop sessions, drop the connection and boot again."""

    def trigger(self, message: str, connector_id: int | None) -> None:
        """Send ``message`` (TriggerMessage's requestedMessage) now."""

    def availability_changed(self, connector_id: int) -> None:
        """Report the connector's new status after ChangeAvailability."""


class ChargerState:
    """Everything a charger knows, shared by its handlers, its sessions and its connection loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        connectors: int,
        faults: Faults | None = None,
        local_list_supported: bool = True,
        queue_capacity: int = 10_000,
    ) -> None:
        self.settings = settings
        self.faults = faults or Faults()
        self.local_list_supported = local_list_supported
        """False: a charger built without local lists (SendLocalList NotSupported, version -1)."""
        self.local_list = LocalAuthorizationList(
            max_length=settings.local_list_max_length, max_per_message=settings.send_local_list_max_length
        )
        self.cache = AuthorizationCache()
        self.connectors = {n: Connector(n) for n in range(1, connectors + 1)}
        self.queue = TransactionQueue(capacity=queue_capacity)
        self.changes: deque[ReceivedChange] = deque(maxlen=CHANGES_KEPT)
        """The last changes the central system asked for, oldest first: how tests see that nothing was
        sent twice. Reads (GetConfiguration, GetVariables, GetLocalListVersion) are not recorded."""

    def free_connector(self, connector_id: int | None = None) -> Connector | None:
        """``connector_id`` if it is free, or the first free connector when none is named."""
        if connector_id is not None:
            connector = self.connectors.get(connector_id)
            return connector if connector is not None and connector.is_free else None
        return next((c for c in self.connectors.values() if c.is_free), None)

    def connector_of_transaction(self, transaction_id: str) -> Connector | None:
        """The connector whose session has ``transaction_id`` (1.6: the central system's id as a string)."""
        for connector in self.connectors.values():
            session = connector.session
            if session is None:
                continue
            if session.transaction_id is None and session.local_ref is not None:
                real_id = self.queue.transaction_id(session.local_ref)
                session.transaction_id = None if real_id is None else str(real_id)
            if session.transaction_id == transaction_id:
                return connector
        return None

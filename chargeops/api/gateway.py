"""The OCPP gateway's control API: the documents the operator and the gateway exchange over HTTP.

The operator (a Kubernetes client) and the gateway (which knows nothing of Kubernetes) share these types
and nothing else: the operator PUTs one ``DesiredState`` per charger and reads back ``ObservedState`` and
``Session`` records. JSON is camelCase, like the CRDs. Timestamps are timezone-aware and UTC on the wire.
Energy is integer Wh; nothing here is a float.
"""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, model_validator

from chargeops.api.v1alpha1.charger import CHARGE_POINT_ID_PATTERN, OcppVersion
from chargeops.api.v1alpha1.meta import ApiModel

ChargePointId = Annotated[str, Field(pattern=CHARGE_POINT_ID_PATTERN, max_length=48)]
# OCPP 1.6 IdToken is CiString20; 2.0.1 idToken.idToken is up to 36 characters.
IdTag = Annotated[str, Field(min_length=1, max_length=36)]
# OCPP 1.6 §4.7: a password for security profiles 1 and 2 is 16 to 40 bytes (2.0.1 allows up to 40 too).
PASSWORD_MIN_BYTES = 16
PASSWORD_MAX_BYTES = 40


class AuthorizationMode(StrEnum):
    """Who may charge at a charger."""

    FREE = "Free"  # anyone: the gateway accepts every id tag and the charger needs no authorization
    REQUIRED = "Required"  # only the id tags in DesiredState.authorized_id_tags (pay-per-month)


class DesiredState(ApiModel):
    """What one charger should be: written by the operator, converged to by the gateway."""

    ocpp_version: OcppVersion = OcppVersion.V16
    """The OCPP version the charger must speak; a connection offering only another one is refused."""

    security_profile: int = Field(default=1, ge=0, le=2)
    """OCPP security profile: 1 HTTP Basic, 2 HTTP Basic over TLS, 0 none (development switch only)."""

    password: str | None = Field(default=None, min_length=PASSWORD_MIN_BYTES, max_length=PASSWORD_MAX_BYTES, repr=False)
    """Basic-auth password for profiles 1 and 2. Write-only: the gateway keeps only a salted hash and
    never returns it. If unset on a PUT, the stored hash is kept."""

    authorization: AuthorizationMode = AuthorizationMode.FREE
    """`Free` or `Required`."""

    managed: bool = True
    """Whether the gateway changes the charger. False: it admits and observes the charger but leaves its
    configuration and local list as they are — for a Charger whose pay-per-month preconditions do not
    hold yet, which must not be half-switched."""

    heartbeat_interval_s: int = Field(default=300, ge=30, le=86_400)
    """Heartbeat interval the charger is configured with, in seconds."""

    configuration: dict[str, str] = Field(default_factory=dict)
    """Extra configuration keys and values the charger must hold (OCPP 1.6 keys, or Component/Variable
    for 2.0.1)."""

    authorized_id_tags: list[IdTag] = Field(default_factory=list, max_length=10_000)
    """Id tags accepted when authorization is `Required`; sent to the charger as its local list."""

    revision: int = Field(default=0, ge=0)
    """The writer's revision of this document (the operator uses the Charger's generation plus the
    subscriptions' versions); echoed as ObservedState.applied_revision once converged."""


class StoredDesiredState(ApiModel):
    """A desired state as the gateway holds it."""

    charge_point_id: ChargePointId
    """The charger's identity."""

    desired: DesiredState
    """The document, with `password` always unset."""

    has_password: bool
    """Whether a password hash is stored."""

    local_list_version: int = Field(ge=0)
    """The local-list version the gateway assigned to `desired.authorized_id_tags`; it grows by one
    whenever the set of tags changes."""

    updated_at: AwareDatetime
    """When the document last changed."""


class ConfigurationResult(StrEnum):
    """How the charger answered a configuration change (OCPP 1.6 ConfigurationStatus, 2.0.1
    SetVariableStatus)."""

    ACCEPTED = "Accepted"  # set and in effect
    REBOOT_REQUIRED = "RebootRequired"  # set, in effect after the next reboot
    REJECTED = "Rejected"  # the charger refused the value
    NOT_SUPPORTED = "NotSupported"  # the charger does not know the key
    TIMEOUT = "Timeout"  # no answer within the response timeout; asked again on the next convergence


class ObservedState(ApiModel):
    """What the gateway last saw of one charger."""

    charge_point_id: ChargePointId
    """The charger's identity."""

    connected: bool = False
    """Whether a websocket to the charger is open now."""

    connected_since: AwareDatetime | None = None
    """When the current (or last) connection opened."""

    replica: str | None = None
    """The gateway replica holding the connection while connected. With several replicas on one
    PostgreSQL, a charger whose replica stopped renewing its lease reads as not connected."""

    last_seen: AwareDatetime | None = None
    """When the charger last sent a message."""

    ocpp_version: OcppVersion | None = None
    """The subprotocol of the current (or last) connection."""

    vendor: str | None = None
    """chargePointVendor / chargingStation.vendorName from BootNotification."""

    model: str | None = None
    """chargePointModel / chargingStation.model from BootNotification."""

    firmware_version: str | None = None
    """firmwareVersion from BootNotification."""

    serial_number: str | None = None
    """chargePointSerialNumber / chargingStation.serialNumber from BootNotification."""

    configuration: dict[str, str] = Field(default_factory=dict)
    """Values the charger reported for the keys the gateway manages or was asked to set."""

    configuration_results: dict[str, ConfigurationResult] = Field(default_factory=dict)
    """The charger's answer to the last change of each key that did not end `Accepted`."""

    local_list_version: int | None = None
    """The local authorization list version the charger reported last (-1: it has no local list)."""

    local_list_revision: int | None = None
    """StoredDesiredState.local_list_version whose tags the charger holds, once a list was sent. The
    charger's own version counts messages and may differ: a list split over several SendLocalList
    messages advances it once per message."""

    local_list: list[str] = Field(default_factory=list)
    """The id tags the gateway last sent to the charger's local list, in sorted order."""

    applied_revision: int | None = None
    """DesiredState.revision of the last desired state the charger fully converged to."""

    converged_at: AwareDatetime | None = None
    """When the charger last finished converging."""

    drift: list[str] = Field(default_factory=list)
    """Keys or lists that differed from the desired state at the last check, e.g. `LocalAuthListEnabled`."""

    drift_detected_at: AwareDatetime | None = None
    """When drift was last found."""

    drift_repaired_at: AwareDatetime | None = None
    """When the gateway last set every drifted key and list back; earlier than `drift_detected_at` while
    a repair is outstanding (a key the charger now refuses)."""

    last_error: str | None = None
    """The last error talking to the charger, in words; unset once a later convergence succeeds."""

    last_error_at: AwareDatetime | None = None
    """When `last_error` happened."""

    firmware_status: str | None = None
    """Last FirmwareStatusNotification status, e.g. `Installed`."""

    diagnostics_status: str | None = None
    """Last DiagnosticsStatusNotification status (OCPP 1.6), e.g. `Uploaded`."""

    connector_status: dict[str, str] = Field(default_factory=dict)
    """Last StatusNotification status per connector id, e.g. `{"1": "Charging"}`."""


class SessionFlag(StrEnum):
    """Why a session needs a person before it is billed."""

    ESTIMATED_START = "EstimatedStart"  # 2.0.1: no Started event carried a meter value; the first reading was used
    ESTIMATED_STOP = "EstimatedStop"  # the stop meter value was taken from the last meter reading
    NEGATIVE_ENERGY = "NegativeEnergy"  # meterStop was below meterStart
    DELIVERED_LATE = "DeliveredLate"  # the charger delivered the transaction after being offline
    UNKNOWN_ID_TAG = "UnknownIdTag"  # started offline with an id tag that was not authorized


class Session(ApiModel):
    """One charging session (an OCPP transaction), as stored by the gateway."""

    id: str = Field(max_length=64)
    """The gateway's id of the session, unique across chargers and replicas."""

    charge_point_id: ChargePointId
    """Charger where it took place."""

    connector_id: int = Field(ge=0)
    """Connector (1.6) or EVSE (2.0.1) id."""

    transaction_id: str = Field(max_length=36)
    """The OCPP transaction id: assigned by the gateway for 1.6, by the charger for 2.0.1."""

    id_tag: str | None = Field(default=None, max_length=36)
    """Id tag that started it."""

    started_at: AwareDatetime
    """Start, as the charger reported it, in UTC."""

    stopped_at: AwareDatetime | None = None
    """Stop, in UTC; unset while the session is open."""

    meter_start_wh: int
    """Energy register at start, in Wh."""

    meter_stop_wh: int | None = None
    """Energy register at stop, in Wh."""

    energy_wh: int | None = None
    """meterStop minus meterStart, in Wh; unset while open."""

    stop_reason: str | None = Field(default=None, max_length=64)
    """OCPP stop reason, e.g. `Local`, `EVDisconnected`."""

    flags: list[SessionFlag] = Field(default_factory=list)
    """Reasons for review; empty for a clean session."""

    updated_at: AwareDatetime
    """When the gateway last changed this record."""


class MeterReading(ApiModel):
    """One energy register reading inside a session, used to split sessions at month boundaries."""

    timestamp: AwareDatetime
    """When the charger sampled it, in UTC."""

    energy_wh: int
    """Energy.Active.Import.Register, in Wh."""


class SessionPage(ApiModel):
    """One page of sessions in a stable order (started_at, id), with a cursor to the next page."""

    items: list[Session]
    """The sessions of this page."""

    next_cursor: str | None = None
    """Pass as `cursor` to get the next page; unset on the last page."""


class SessionWithReadings(Session):
    """A session with its energy register readings, as `GET /v1/sessions?withReadings=true` lists it."""

    readings: list[MeterReading]
    """Its Energy.Active.Import.Register readings, oldest first; what `/v1/sessions/{id}/readings` answers."""


class SessionWithReadingsPage(ApiModel):
    """A page of sessions with their readings (`withReadings=true`): ordered and paged like `SessionPage`."""

    items: list[SessionWithReadings]
    """The sessions of this page, each with its readings."""

    next_cursor: str | None = None
    """Pass as `cursor` to get the next page; unset on the last page."""


class SessionWithReadingOffsets(Session):
    """A session with its readings as two columns, as `GET /v1/sessions?withReadings=true&readingsFormat=offsets`
    lists it: what a bulk reader (the billing pass) parses without a timestamp or an object per reading."""

    reading_offsets_us: list[int]
    """Microseconds from `startedAt` to each Energy.Active.Import.Register reading, oldest first."""

    reading_energies_wh: list[int]
    """The register at each of those instants, in Wh: one per offset."""

    @model_validator(mode="after")
    def _columns_match(self) -> Self:
        if len(self.reading_offsets_us) != len(self.reading_energies_wh):
            raise ValueError("readingOffsetsUs and readingEnergiesWh must be equally long")
        return self


class SessionWithReadingOffsetsPage(ApiModel):
    """A page of sessions with their readings as columns (`readingsFormat=offsets`), paged like `SessionPage`."""

    items: list[SessionWithReadingOffsets]
    """The sessions of this page, each with its readings."""

    next_cursor: str | None = None
    """Pass as `cursor` to get the next page; unset on the last page."""

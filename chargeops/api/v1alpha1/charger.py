"""Charger: one charge point, as it should be configured and as the gateway last saw it.

The operator turns a Charger into a desired-state document for the OCPP gateway and copies what the gateway
observed back into ``status``. Pay-per-month takes effect only once ``approval.ANNOTATION`` holds the
fingerprint of the billing-relevant spec.
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from chargeops.api.v1alpha1.meta import (
    AGE_COLUMN,
    ApiModel,
    Conditions,
    LocalObjectReference,
    PrinterColumn,
    Resource,
    ResourceNames,
    SecretKeySelector,
    condition_column,
    matches,
    rule,
    validations,
)

# OCPP 2.0.1 identifierString (Part 2 §2.1.5) without ':', because the identity is also the HTTP Basic
# user name of security profiles 1 and 2 (OCPP 1.6 Security Whitepaper §2.3); 48 characters is the limit
# both versions set for the charge point identity.
CHARGE_POINT_ID_PATTERN = r"^[A-Za-z0-9*_=+|@.-]{1,48}$"
# OCPP 1.6 CiString50 keys; 2.0.1 keys are written Component/Variable or Component[instance]/Variable.
CONFIGURATION_KEY_PATTERN = r"^[A-Za-z0-9_.\[\]/-]{1,100}$"

# Keys the gateway sets itself from spec.chargingMode and spec.heartbeatIntervalS; letting
# spec.configuration set them too would let one field silently undo another.
MANAGED_CONFIGURATION_KEYS = (
    "AllowOfflineTxForUnknownId",
    "AuthorizationCacheEnabled",
    "AuthorizeRemoteTxRequests",
    "HeartbeatInterval",
    "LocalAuthListEnabled",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "AuthCacheCtrlr/Enabled",
    "AuthCtrlr/Enabled",
    "AuthCtrlr/LocalAuthorizeOffline",
    "AuthCtrlr/LocalPreAuthorize",
    "AuthCtrlr/OfflineTxForUnknownIdEnabled",
    "LocalAuthListCtrlr/Enabled",
    "OCPPCommCtrlr/HeartbeatInterval",
)


class OcppVersion(StrEnum):
    """The OCPP-J protocol version the charger speaks."""

    V16 = "1.6"  # OCPP 1.6J, subprotocol ocpp1.6
    V201 = "2.0.1"  # OCPP 2.0.1, subprotocol ocpp2.0.1


class ChargingModeName(StrEnum):
    """How the live charger lets people charge."""

    FREE = "Free"  # anyone may charge; no authorization required
    PAY_PER_MONTH = "PayPerMonth"  # only id tags of active subscriptions; billed monthly


class ChargingMode(ApiModel):
    """Whether charging is free or paid by the month, and at which prices."""

    pay_per_month: bool = False
    """Require authorization and bill subscribers monthly. Needs a Business site, `tariffRef`, and an
    approval annotation by a super-admin. If unset, defaults to false (free charging)."""

    tariff_ref: LocalObjectReference | None = None
    """Tariff that prices sessions on this charger, e.g. `{name: energy-standard}`. Required when
    `payPerMonth` is true. Its currency must equal the site's."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "!self.payPerMonth || has(self.tariffRef)",
                "chargingMode.tariffRef is required when chargingMode.payPerMonth is true",
            )
        )
    )


class SecurityProfile(ApiModel):
    """How the charger authenticates to the gateway (OCPP 1.6 Security Whitepaper, OCPP 2.0.1 A00)."""

    profile: int = Field(default=1, ge=0, le=2)
    """OCPP security profile: `1` HTTP Basic over plain websocket, `2` HTTP Basic over TLS, `0` none
    (development only; the gateway refuses it unless started with its development switch). If unset,
    defaults to 1."""

    basic_auth_secret_ref: SecretKeySelector | None = None
    """Secret key holding the charger's Basic-auth password, at least 16 bytes, e.g.
    `{name: cp-0001-auth, key: password}`. Required for profiles 1 and 2."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            rule(
                "self.profile == 0 || has(self.basicAuthSecretRef)",
                "security.basicAuthSecretRef is required for security profiles 1 and 2",
            )
        )
    )


class ConfigurationEntry(ApiModel):
    """One OCPP configuration key and the value the charger should hold."""

    key: str = Field(
        max_length=100,
        json_schema_extra=validations(
            matches(
                CONFIGURATION_KEY_PATTERN,
                "key must be an OCPP 1.6 key such as MeterValueSampleInterval, or Component/Variable for 2.0.1",
            )
        ),
    )
    """Configuration key, e.g. `MeterValueSampleInterval` (OCPP 1.6) or `SampledDataCtrlr/TxUpdatedInterval`
    (OCPP 2.0.1)."""

    value: str = Field(max_length=500)
    """Value to set, as OCPP carries it: a string, e.g. `"60"` or `"true"`."""


class ChargerSpec(ApiModel):
    """Desired state of a Charger: its identity, site, protocol, charging mode and configuration."""

    charge_point_id: str = Field(
        max_length=48,
        json_schema_extra=validations(
            matches(
                CHARGE_POINT_ID_PATTERN,
                "chargePointId must be 1-48 characters of letters, digits and *_=+|@.- (no spaces or colons)",
            ),
            rule("self == oldSelf", "chargePointId is immutable; create a new Charger for another charge point"),
        ),
    )
    """Identity the charger presents to the gateway, the last path segment of its OCPP URL, e.g.
    `CP-0001` for `wss://gateway/ocpp/CP-0001`. At most 48 characters; no colon. Immutable."""

    site_ref: LocalObjectReference = Field(
        json_schema_extra=validations(
            rule("self == oldSelf", "siteRef is immutable; create a new Charger to move it to another Site")
        )
    )
    """Site the charger is installed at, e.g. `{name: parkside}`. Immutable."""

    ocpp_version: OcppVersion = OcppVersion.V16
    """OCPP version the charger speaks: `1.6` or `2.0.1`. If unset, defaults to `1.6`."""

    charging_mode: ChargingMode = Field(default_factory=ChargingMode)
    """Free or pay-per-month charging. If unset, charging is free."""

    security: SecurityProfile | None = None
    """How the charger authenticates. If unset, profile 1 without a password, which the gateway refuses:
    set `basicAuthSecretRef` for any charger that should connect."""

    heartbeat_interval_s: int = Field(default=300, ge=30, le=86_400)
    """How often the charger sends Heartbeat, in seconds. If unset, defaults to 300. Minimum accepted
    value is 30."""

    configuration: list[ConfigurationEntry] | None = Field(
        default=None,
        max_length=64,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["key"],
        }
        | validations(
            rule(
                f"self.all(e, !(e.key in {list(MANAGED_CONFIGURATION_KEYS)}))",
                "spec.configuration cannot set keys the gateway manages from spec.chargingMode and "
                "spec.heartbeatIntervalS: " + ", ".join(MANAGED_CONFIGURATION_KEYS),
            )
        ),
    )
    """Extra OCPP configuration keys the gateway keeps set on the charger, e.g.
    `[{key: MeterValueSampleInterval, value: "60"}]`. Keys the gateway manages itself (authorization,
    local list, heartbeat) are refused here."""


class ConfigurationChange(ApiModel):
    """A configuration key the gateway will change on the live charger."""

    key: str = Field(max_length=100)
    """Configuration key, e.g. `AuthorizeRemoteTxRequests`."""

    current: str | None = Field(default=None, max_length=500)
    """Value the charger reported last, if known."""

    desired: str = Field(max_length=500)
    """Value it will be set to."""


class PendingChanges(ApiModel):
    """What the live charger will get once the spec is approved and applied."""

    mode: ChargingModeName
    """Charging mode the charger will switch to."""

    configuration: list[ConfigurationChange] | None = Field(default=None, max_length=128)
    """Configuration keys that will change."""


class ChargerDrift(ApiModel):
    """When the live charger last moved away from a desired state it had held, and when it was brought back.

    The gateway checks every connected charger periodically and on reconnect; a setting that changed on the
    charger (by hand, by a reset, by its vendor's cloud) is drift, and the gateway sets it back."""

    last_detected_time: datetime | None = None
    """When the gateway last found the live charger differing from the desired state it had converged to
    (RFC 3339, UTC)."""

    last_repaired_time: datetime | None = None
    """When the gateway last set every differing setting back (RFC 3339, UTC). Earlier than
    `lastDetectedTime` while a repair is outstanding, e.g. when the charger refused a value."""

    differences: list[str] | None = Field(default=None, max_length=128)
    """What differed at the last detection: configuration keys, e.g. `LocalAuthListEnabled`, or
    `LocalAuthorizationList` for the id tags."""


class ChargerStatus(ApiModel):
    """Observed state of a Charger. Set by the operator from the gateway's report. Read-only."""

    observed_generation: int | None = Field(default=None, ge=0)
    """The `metadata.generation` this status was computed from."""

    conditions: Conditions | None = None
    """Current state: `Ready` (summary), `Connected`, `Approved`, `Configured`; `Reconciling` while the
    operator or gateway works towards the spec and `Stalled` while only a person can move it on (kstatus:
    both appear only while True)."""

    mode: ChargingModeName | None = None
    """Charging mode the live charger is in now: `Free` or `PayPerMonth`."""

    approval_fingerprint: str | None = Field(default=None, max_length=64)
    """The value the approval annotation must hold to approve the current billing-relevant spec."""

    pending_changes: PendingChanges | None = None
    """What approving and applying the current spec will change on the live charger."""

    last_seen: datetime | None = None
    """When the gateway last heard from the charger. While the charger is connected it moves in steps of
    15 minutes (`Connected` says the charger is online); once it disconnects, it is exact."""

    vendor: str | None = Field(default=None, max_length=64)
    """Vendor the charger reported in BootNotification."""

    model: str | None = Field(default=None, max_length=64)
    """Model the charger reported in BootNotification."""

    firmware_version: str | None = Field(default=None, max_length=64)
    """Firmware version the charger reported in BootNotification."""

    local_list_version: int | None = None
    """Version of the local authorization list on the charger."""

    authorized_id_tags: int | None = Field(default=None, ge=0)
    """How many id tags the charger accepts: those of active subscriptions that cover it."""

    drift: ChargerDrift | None = None
    """When the live charger last drifted from its desired state and when the gateway repaired it. Unset
    until drift is first found."""


class Charger(Resource):
    """One charge point connected to the chargeops OCPP gateway."""

    names = ResourceNames(
        kind="Charger",
        plural="chargers",
        singular="charger",
        short_names=("chg", "cp"),
        printer_columns=(
            PrinterColumn("ChargePointID", ".spec.chargePointId", description="OCPP charge point identity."),
            PrinterColumn("Site", ".spec.siteRef.name", description="Site the charger belongs to."),
            PrinterColumn("Mode", ".status.mode", description="Charging mode of the live charger."),
            condition_column("Ready"),
            condition_column("Connected"),
            condition_column("Approved", priority=1),
            PrinterColumn("LastSeen", ".status.lastSeen", type="date", description="Last message.", priority=1),
            AGE_COLUMN,
        ),
    )

    kind: Literal["Charger"] = "Charger"
    spec: ChargerSpec
    status: ChargerStatus | None = None

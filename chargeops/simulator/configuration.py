"""The OCPP 1.6 configuration keys of a simulated charger, and how it answers Get/ChangeConfiguration.

``v16`` answers the gateway's GetConfiguration and ChangeConfiguration from a ``ConfigurationStore``; the
station reads its behaviour (heartbeat interval, sample interval, offline authorization, retry policy) from
the same store, so a change the gateway makes shows in what the charger does next. The keys are the subset of
OCPP 1.6 §9 (Standard Configuration Key Names & Values) that this job touches: Core, Local Auth List
Management and the transaction retry keys. Keys outside that set answer NotSupported; read-only keys and
values of the wrong type answer Rejected (§5.3, Change Configuration).

Keys listed in ``reboot_required`` store the new value as pending and answer RebootRequired; the value takes
effect (and GetConfiguration shows it) after a Reset, which is what RebootRequired means in 1.6's
ConfigurationStatus ("changes will only take effect after a reboot").
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class KeyType(StrEnum):
    """How a value is written on the wire; §9 gives each key one of these."""

    BOOLEAN = "boolean"  # "true" / "false", case-insensitive on input
    INTEGER = "integer"  # a non-negative decimal integer
    CSL = "csl"  # a comma-separated list
    STRING = "string"  # anything up to 500 characters (CiString500)


class ChangeStatus(StrEnum):
    """OCPP 1.6 ConfigurationStatus."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"


@dataclass(frozen=True)
class KeySpec:
    """One configuration key: its type, whether it is read-only, and its value on a new charger."""

    type: KeyType
    default: str
    readonly: bool = False


# ChangeConfiguration.req value is a CiString500 in OCPP 1.6.
_MAX_VALUE_LENGTH = 500

# Measurands this simulator can sample (1.6 Measurand type): other values in *SampledData are Rejected.
SUPPORTED_MEASURANDS = frozenset({"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import"})

_MEASURAND_KEYS = frozenset(
    {"MeterValuesAlignedData", "MeterValuesSampledData", "StopTxnAlignedData", "StopTxnSampledData"}
)


def standard_keys(
    *, connectors: int, local_list_max_length: int, send_local_list_max_length: int
) -> dict[str, KeySpec]:
    """The keys of a new charger with ``connectors`` connectors, per §9.1 (Core) and §9.2 (Local Auth List)."""
    boolean, integer, csl = KeyType.BOOLEAN, KeyType.INTEGER, KeyType.CSL
    return {
        "AllowOfflineTxForUnknownId": KeySpec(boolean, "false"),
        "AuthorizationCacheEnabled": KeySpec(boolean, "true"),
        "AuthorizeRemoteTxRequests": KeySpec(boolean, "true"),
        "ClockAlignedDataInterval": KeySpec(integer, "0"),
        "ConnectionTimeOut": KeySpec(integer, "60"),
        "ConnectorPhaseRotation": KeySpec(csl, ",".join(f"{n}.RST" for n in range(connectors + 1))),
        "GetConfigurationMaxKeys": KeySpec(integer, "50", readonly=True),
        "HeartbeatInterval": KeySpec(integer, "300"),
        "LocalAuthListEnabled": KeySpec(boolean, "true"),
        "LocalAuthListMaxLength": KeySpec(integer, str(local_list_max_length), readonly=True),
        "LocalAuthorizeOffline": KeySpec(boolean, "true"),
        "LocalPreAuthorize": KeySpec(boolean, "false"),
        "MeterValuesAlignedData": KeySpec(csl, "Energy.Active.Import.Register"),
        "MeterValuesSampledData": KeySpec(csl, "Energy.Active.Import.Register,Power.Active.Import"),
        "MeterValueSampleInterval": KeySpec(integer, "60"),
        "NumberOfConnectors": KeySpec(integer, str(connectors), readonly=True),
        "ResetRetries": KeySpec(integer, "3"),
        "SendLocalListMaxLength": KeySpec(integer, str(send_local_list_max_length), readonly=True),
        "StopTransactionOnEVSideDisconnect": KeySpec(boolean, "true"),
        "StopTransactionOnInvalidId": KeySpec(boolean, "true"),
        "StopTxnAlignedData": KeySpec(csl, ""),
        "StopTxnSampledData": KeySpec(csl, ""),
        "SupportedFeatureProfiles": KeySpec(csl, "Core,LocalAuthListManagement,RemoteTrigger", readonly=True),
        "TransactionMessageAttempts": KeySpec(integer, "3"),
        "TransactionMessageRetryInterval": KeySpec(integer, "60"),
        "UnlockConnectorOnEVSideDisconnect": KeySpec(boolean, "true"),
        "WebSocketPingInterval": KeySpec(integer, "0"),
    }


# A real charger restarts its websocket stack to change the ping interval; that makes one key that
# exercises the gateway's RebootRequired handling without any fault injection.
DEFAULT_REBOOT_REQUIRED = frozenset({"WebSocketPingInterval"})


class ConfigurationStore:
    """The configuration of one 1.6 charger: values, pending values (RebootRequired), and the answers."""

    def __init__(
        self,
        specs: Mapping[str, KeySpec],
        *,
        reboot_required: Iterable[str] = DEFAULT_REBOOT_REQUIRED,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._specs = dict(specs)
        self._values = {key: spec.default for key, spec in self._specs.items()}
        self._values.update(overrides or {})
        self._pending: dict[str, str] = {}
        self._reboot_required = frozenset(reboot_required)

    def get(self, keys: Sequence[str] | None = None) -> tuple[list[dict[str, object]], list[str]]:
        """GetConfiguration.conf: ``(configurationKey entries, unknownKey)``; all keys when ``keys`` is empty."""
        # §5.8: "If the list is empty, the Charge Point SHALL return a list of all configuration settings".
        wanted = list(keys) if keys else sorted(self._specs)
        known = [
            {"key": key, "readonly": self._specs[key].readonly, "value": self._values[key]}
            for key in wanted
            if key in self._specs
        ]
        unknown = [key for key in wanted if key not in self._specs]
        return known, unknown

    def change(self, key: str, value: str) -> ChangeStatus:
        """ChangeConfiguration.conf status for setting ``key`` to ``value``; stores it when not refused."""
        spec = self._specs.get(key)
        if spec is None:
            return ChangeStatus.NOT_SUPPORTED
        if spec.readonly or not _is_valid(key, value, spec.type):
            return ChangeStatus.REJECTED
        normalized = value.lower() if spec.type is KeyType.BOOLEAN else value
        if key in self._reboot_required:
            self._pending[key] = normalized
            return ChangeStatus.REBOOT_REQUIRED
        self._values[key] = normalized
        return ChangeStatus.ACCEPTED

    def set_heartbeat_interval(self, seconds: int) -> None:
        """BootNotification.conf interval becomes HeartbeatInterval (§4.2, Boot Notification)."""
        if seconds > 0:
            self._values["HeartbeatInterval"] = str(seconds)

    def reboot(self) -> list[str]:
        """Apply the pending values, as a reset does; return the keys that changed."""
        applied = sorted(self._pending)
        self._values.update(self._pending)
        self._pending.clear()
        return applied

    def value(self, key: str) -> str:
        """The value in effect for ``key``."""
        return self._values[key]

    def boolean(self, key: str) -> bool:
        """The value of a boolean key."""
        return self._values[key] == "true"

    def integer(self, key: str) -> int:
        """The value of an integer key."""
        return int(self._values[key])

    @property
    def pending(self) -> Mapping[str, str]:
        """Values accepted with RebootRequired and not yet in effect."""
        return dict(self._pending)

    # The station's view (``state.Settings``): what the keys make the charger do.

    @property
    def heartbeat_interval_s(self) -> int:
        return self.integer("HeartbeatInterval")

    @property
    def sample_interval_s(self) -> int:
        return self.integer("MeterValueSampleInterval")

    @property
    def authorization_enabled(self) -> bool:
        # A 1.6 charger always authorizes an id tag before charging; "free" is the central system's answer.
        return True

    @property
    def authorize_remote_start(self) -> bool:
        return self.boolean("AuthorizeRemoteTxRequests")

    @property
    def local_list_enabled(self) -> bool:
        return self.boolean("LocalAuthListEnabled")

    @property
    def local_authorize_offline(self) -> bool:
        return self.boolean("LocalAuthorizeOffline")

    @property
    def local_pre_authorize(self) -> bool:
        return self.boolean("LocalPreAuthorize")

    @property
    def offline_unknown_allowed(self) -> bool:
        return self.boolean("AllowOfflineTxForUnknownId")

    @property
    def cache_enabled(self) -> bool:
        return self.boolean("AuthorizationCacheEnabled")

    @property
    def stop_on_invalid_id(self) -> bool:
        return self.boolean("StopTransactionOnInvalidId")

    @property
    def message_attempts(self) -> int:
        return max(self.integer("TransactionMessageAttempts"), 1)

    @property
    def message_retry_interval_s(self) -> int:
        return self.integer("TransactionMessageRetryInterval")

    @property
    def local_list_max_length(self) -> int:
        return self.integer("LocalAuthListMaxLength")

    @property
    def send_local_list_max_length(self) -> int:
        return self.integer("SendLocalListMaxLength")


def _is_valid(key: str, value: str, key_type: KeyType) -> bool:
    if len(value) > _MAX_VALUE_LENGTH:
        return False
    if key_type is KeyType.BOOLEAN:
        return value.lower() in {"true", "false"}
    if key_type is KeyType.INTEGER:
        return value.isdigit() and len(value) <= 9
    if key in _MEASURAND_KEYS:
        return all(item in SUPPORTED_MEASURANDS for item in value.split(",") if item)
    return True

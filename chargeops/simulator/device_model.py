"""The OCPP 2.0.1 device model subset of a simulated charging station, and how it answers Get/SetVariables.

``v201`` answers GetVariables (use case B06) and SetVariables (B05) from a ``DeviceModel``; the station reads
its behaviour from the same variables, as the 1.6 simulator reads ``ConfigurationStore``. Only the Actual
attribute exists here; the components and variables are those of OCPP 2.0.1 Part 2 Appendix 3 that the
gateway manages (authorization, local list, heartbeat, sampling, transaction retries), plus a few read-only
ones a real station reports.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from chargeops.simulator.configuration import KeyType


class Mutability(StrEnum):
    """2.0.1 MutabilityEnumType (only the two this subset uses)."""

    READ_ONLY = "ReadOnly"
    READ_WRITE = "ReadWrite"


class GetStatus(StrEnum):
    """2.0.1 GetVariableStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"


class SetStatus(StrEnum):
    """2.0.1 SetVariableStatusEnumType."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    UNKNOWN_COMPONENT = "UnknownComponent"
    UNKNOWN_VARIABLE = "UnknownVariable"
    NOT_SUPPORTED_ATTRIBUTE_TYPE = "NotSupportedAttributeType"
    REBOOT_REQUIRED = "RebootRequired"


@dataclass(frozen=True)
class VariableSpec:
    """One variable: its data type, mutability and value on a new station."""

    type: KeyType
    default: str
    mutability: Mutability = Mutability.READ_WRITE


# Variables are named "Component.Variable", the way the gateway's desired state and the CLI write them.
def standard_variables(*, items_per_message: int) -> dict[str, VariableSpec]:
    """The variables of a new station."""
    boolean, integer, string = KeyType.BOOLEAN, KeyType.INTEGER, KeyType.STRING
    read_only = Mutability.READ_ONLY
    return {
        "AuthCtrlr.Enabled": VariableSpec(boolean, "true"),
        "AuthCtrlr.AuthorizeRemoteStart": VariableSpec(boolean, "true"),
        "AuthCtrlr.LocalAuthorizeOffline": VariableSpec(boolean, "true"),
        "AuthCtrlr.LocalPreAuthorize": VariableSpec(boolean, "false"),
        "AuthCtrlr.OfflineTxForUnknownIdEnabled": VariableSpec(boolean, "false"),
        "AuthCacheCtrlr.Enabled": VariableSpec(boolean, "true"),
        "LocalAuthListCtrlr.Enabled": VariableSpec(boolean, "true"),
        "LocalAuthListCtrlr.ItemsPerMessage": VariableSpec(integer, str(items_per_message), read_only),
        "LocalAuthListCtrlr.BytesPerMessage": VariableSpec(integer, "65536", read_only),
        "OCPPCommCtrlr.HeartbeatInterval": VariableSpec(integer, "300"),
        "OCPPCommCtrlr.MessageAttempts": VariableSpec(integer, "3"),
        "OCPPCommCtrlr.MessageAttemptInterval": VariableSpec(integer, "60"),
        "OCPPCommCtrlr.WebSocketPingInterval": VariableSpec(integer, "0"),
        "SampledDataCtrlr.TxUpdatedInterval": VariableSpec(integer, "60"),
        "SampledDataCtrlr.TxUpdatedMeasurands": VariableSpec(string, "Energy.Active.Import.Register"),
        "SecurityCtrlr.SecurityProfile": VariableSpec(integer, "1", read_only),
        "TxCtrlr.StopTxOnInvalidId": VariableSpec(boolean, "true"),
        "TxCtrlr.EVConnectionTimeOut": VariableSpec(integer, "60"),
    }


# As in 1.6 (configuration.DEFAULT_REBOOT_REQUIRED): one variable that needs a restart to apply.
DEFAULT_REBOOT_REQUIRED = frozenset({"OCPPCommCtrlr.WebSocketPingInterval"})

_ACTUAL = "Actual"
# 2.0.1 attributeValue is a string of at most 1000 characters (SetVariableDataType).
_MAX_VALUE_LENGTH = 1000


class DeviceModel:
    """The variables of one 2.0.1 station: values, pending values (RebootRequired), and the answers."""

    def __init__(
        self,
        specs: Mapping[str, VariableSpec],
        *,
        local_list_max_length: int,
        reboot_required: Iterable[str] = DEFAULT_REBOOT_REQUIRED,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        # The list's capacity is the maxLimit of LocalAuthListCtrlr.Entries, a characteristic, not an Actual
        # value; this subset keeps only Actual attributes, so it lives here.
        self._local_list_max_length = local_list_max_length
        self._specs = dict(specs)
        self._values = {name: spec.default for name, spec in self._specs.items()}
        self._values.update(overrides or {})
        self._pending: dict[str, str] = {}
        self._reboot_required = frozenset(reboot_required)
        self._components = {name.split(".", 1)[0] for name in self._specs}

    def get(self, component: str, variable: str, *, attribute_type: str | None = None) -> tuple[GetStatus, str | None]:
        """GetVariableResult status and value for one component/variable."""
        status = self._locate(component, variable, attribute_type)
        if status is not None:
            return GetStatus(status), None
        return GetStatus.ACCEPTED, self._values[f"{component}.{variable}"]

    def set(self, component: str, variable: str, value: str, *, attribute_type: str | None = None) -> SetStatus:
        """SetVariableResult status for setting one component/variable; stores it when not refused."""
        status = self._locate(component, variable, attribute_type)
        if status is not None:
            return SetStatus(status)
        name = f"{component}.{variable}"
        spec = self._specs[name]
        # B05 (Set Variables): a ReadOnly variable, or a value that does not fit its data type, is Rejected.
        if spec.mutability is Mutability.READ_ONLY or not _is_valid(value, spec.type):
            return SetStatus.REJECTED
        normalized = value.lower() if spec.type is KeyType.BOOLEAN else value
        if name in self._reboot_required:
            self._pending[name] = normalized
            return SetStatus.REBOOT_REQUIRED
        self._values[name] = normalized
        return SetStatus.ACCEPTED

    def set_heartbeat_interval(self, seconds: int) -> None:
        """BootNotificationResponse interval becomes OCPPCommCtrlr.HeartbeatInterval (B01)."""
        if seconds > 0:
            self._values["OCPPCommCtrlr.HeartbeatInterval"] = str(seconds)

    def reboot(self) -> list[str]:
        """Apply the pending values, as a reset does; return the variables that changed."""
        applied = sorted(self._pending)
        self._values.update(self._pending)
        self._pending.clear()
        return applied

    def value(self, name: str) -> str:
        """The value in effect for ``Component.Variable``."""
        return self._values[name]

    def _locate(self, component: str, variable: str, attribute_type: str | None) -> str | None:
        if component not in self._components:
            return "UnknownComponent"
        if f"{component}.{variable}" not in self._specs:
            return "UnknownVariable"
        if attribute_type not in (None, _ACTUAL):
            return "NotSupportedAttributeType"
        return None

    def _boolean(self, name: str) -> bool:
        return self._values[name] == "true"

    def _integer(self, name: str) -> int:
        return int(self._values[name])

    # The station's view (``state.Settings``).

    @property
    def heartbeat_interval_s(self) -> int:
        return self._integer("OCPPCommCtrlr.HeartbeatInterval")

    @property
    def sample_interval_s(self) -> int:
        return self._integer("SampledDataCtrlr.TxUpdatedInterval")

    @property
    def authorization_enabled(self) -> bool:
        # C01: with AuthCtrlr.Enabled false the station charges without asking (free charging).
        return self._boolean("AuthCtrlr.Enabled")

    @property
    def authorize_remote_start(self) -> bool:
        return self._boolean("AuthCtrlr.AuthorizeRemoteStart")

    @property
    def local_list_enabled(self) -> bool:
        return self._boolean("LocalAuthListCtrlr.Enabled")

    @property
    def local_authorize_offline(self) -> bool:
        return self._boolean("AuthCtrlr.LocalAuthorizeOffline")

    @property
    def local_pre_authorize(self) -> bool:
        return self._boolean("AuthCtrlr.LocalPreAuthorize")

    @property
    def offline_unknown_allowed(self) -> bool:
        return self._boolean("AuthCtrlr.OfflineTxForUnknownIdEnabled")

    @property
    def cache_enabled(self) -> bool:
        return self._boolean("AuthCacheCtrlr.Enabled")

    @property
    def stop_on_invalid_id(self) -> bool:
        return self._boolean("TxCtrlr.StopTxOnInvalidId")

    @property
    def message_attempts(self) -> int:
        return max(self._integer("OCPPCommCtrlr.MessageAttempts"), 1)

    @property
    def message_retry_interval_s(self) -> int:
        return self._integer("OCPPCommCtrlr.MessageAttemptInterval")

    @property
    def local_list_max_length(self) -> int:
        return self._local_list_max_length

    @property
    def send_local_list_max_length(self) -> int:
        return self._integer("LocalAuthListCtrlr.ItemsPerMessage")


def _is_valid(value: str, key_type: KeyType) -> bool:
    if len(value) > _MAX_VALUE_LENGTH:
        return False
    if key_type is KeyType.BOOLEAN:
        return value.lower() in {"true", "false"}
    if key_type is KeyType.INTEGER:
        return value.isdigit() and len(value) <= 9
    return True

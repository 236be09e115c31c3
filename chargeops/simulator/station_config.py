"""How a simulated charger is described, and how its OCPP-version-specific parts are put together.

``StationConfig`` is what ``fleet``, the CLI and the tests fill in; ``station.Station`` calls ``dialect_for``
and ``charger_state`` to get the 1.6 or 2.0.1 handlers and a fresh configuration (1.6 keys or 2.0.1 device
model), local list and connectors.
"""

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

from chargeops import __version__
from chargeops.api.gateway import PASSWORD_MAX_BYTES, PASSWORD_MIN_BYTES
from chargeops.api.v1alpha1.charger import OcppVersion
from chargeops.simulator import configuration, device_model, errors, v16_dialect, v201_dialect
from chargeops.simulator.dialect import Dialect
from chargeops.simulator.state import ChargerState, Faults


@dataclass(frozen=True)
class StationConfig:
    """One simulated charger: identity, where to connect, what it is, and how it misbehaves."""

    charge_point_id: str
    """The identity: the last path segment of the websocket URL and the Basic-auth user name."""

    gateway_url: str
    """``ws://host:port/ocpp`` (or ``wss://``); the station appends ``/{charge_point_id}``."""

    password: str | None = None
    """Basic-auth password (security profiles 1 and 2), 16 to 40 bytes; None sends no credentials."""

    ocpp_version: OcppVersion = OcppVersion.V16
    """``1.6`` (subprotocol ocpp1.6) or ``2.0.1`` (ocpp2.0.1)."""

    connectors: int = 1
    """Connectors (1.6) or EVSEs of one connector each (2.0.1)."""

    vendor: str = "chargeops"
    """BootNotification chargePointVendor / vendorName."""

    model: str = "SimCharger"
    """BootNotification chargePointModel / model."""

    firmware_version: str = __version__
    """BootNotification firmwareVersion."""

    serial_number: str | None = None
    """BootNotification serial number; the charge point id if unset."""

    configuration: Mapping[str, str] = field(default_factory=dict)
    """Initial values of 1.6 keys or 2.0.1 ``Component.Variable``s, over the defaults."""

    reboot_required: frozenset[str] | None = None
    """Keys whose change answers RebootRequired; the defaults' one key if unset."""

    faults: Faults = field(default_factory=Faults)
    """Deliberate misbehaviour for fault tests."""

    local_list_supported: bool = True
    """False: a charger without local lists (SendLocalList NotSupported / Failed, version -1)."""

    local_list_max_length: int = 1000
    """LocalAuthListMaxLength: entries the local list holds at most."""

    send_local_list_max_length: int = 100
    """SendLocalListMaxLength (2.0.1 LocalAuthListCtrlr.ItemsPerMessage): entries per SendLocalList."""

    source_address: str | None = None
    """Local address to connect from (127.0.0.x), to spread many chargers over source ports."""

    ssl_context: ssl.SSLContext | None = None
    """TLS for ``wss://`` (security profile 2)."""

    response_timeout_s: float = 30.0
    """Real seconds to wait for the answer to a call (and for the websocket handshake)."""

    reconnect_initial_s: float = 0.5
    """First reconnect delay in real seconds; doubles per failure up to ``reconnect_max_s``, with jitter."""

    reconnect_max_s: float = 30.0
    """Longest reconnect delay in real seconds."""

    boot_on_reconnect: bool = False
    """Send BootNotification on every connection, not only after power-up and Reset."""

    queue_capacity: int = 10_000
    """Transaction messages kept while offline before periodic samples are thinned."""

    def __post_init__(self) -> None:
        if self.connectors < 1:
            raise errors.SimulatorConfigError("a charger needs at least one connector", setting="connectors")
        if self.password is not None and not (PASSWORD_MIN_BYTES <= len(self.password.encode()) <= PASSWORD_MAX_BYTES):
            raise errors.SimulatorConfigError(
                f"the password must be {PASSWORD_MIN_BYTES} to {PASSWORD_MAX_BYTES} bytes (OCPP security profile 1)",
                setting="password",
            )


def dialect_for(version: OcppVersion) -> Dialect:
    """The handlers and message builders of ``version``."""
    return v16_dialect.DIALECT if version is OcppVersion.V16 else v201_dialect.DIALECT


def charger_state(config: StationConfig) -> ChargerState:
    """A new charger's state: default configuration with ``config``'s values, an empty local list."""
    if config.ocpp_version is OcppVersion.V16:
        keys = configuration.standard_keys(
            connectors=config.connectors,
            local_list_max_length=config.local_list_max_length,
            send_local_list_max_length=config.send_local_list_max_length,
        )
        settings: configuration.ConfigurationStore | device_model.DeviceModel = configuration.ConfigurationStore(
            keys,
            reboot_required=config.reboot_required or configuration.DEFAULT_REBOOT_REQUIRED,
            overrides=config.configuration,
        )
    else:
        variables = device_model.standard_variables(items_per_message=config.send_local_list_max_length)
        settings = device_model.DeviceModel(
            variables,
            local_list_max_length=config.local_list_max_length,
            reboot_required=config.reboot_required or device_model.DEFAULT_REBOOT_REQUIRED,
            overrides=config.configuration,
        )
    return ChargerState(
        settings,
        connectors=config.connectors,
        faults=config.faults,
        local_list_supported=config.local_list_supported,
        queue_capacity=config.queue_capacity,
    )

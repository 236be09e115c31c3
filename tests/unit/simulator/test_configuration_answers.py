"""A simulated 1.6 charger answers Get/ChangeConfiguration the way OCPP 1.6 §5.3, §5.8 and §9 say."""

import pytest

from chargeops.simulator.configuration import ChangeStatus, ConfigurationStore, standard_keys


def new_store(**overrides: str) -> ConfigurationStore:
    keys = standard_keys(connectors=2, local_list_max_length=500, send_local_list_max_length=50)
    return ConfigurationStore(keys, overrides=overrides)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("HeartbeatInterval", "120", ChangeStatus.ACCEPTED),
        ("AuthorizeRemoteTxRequests", "FALSE", ChangeStatus.ACCEPTED),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import", ChangeStatus.ACCEPTED),
        ("NumberOfConnectors", "3", ChangeStatus.REJECTED),  # read-only
        ("SendLocalListMaxLength", "1000", ChangeStatus.REJECTED),  # read-only
        ("HeartbeatInterval", "-5", ChangeStatus.REJECTED),  # not a non-negative integer
        ("HeartbeatInterval", "soon", ChangeStatus.REJECTED),
        ("LocalAuthListEnabled", "yes", ChangeStatus.REJECTED),  # not a boolean
        ("MeterValuesSampledData", "Temperature", ChangeStatus.REJECTED),  # a measurand it cannot sample
        ("HeartbeatInterval", "1" * 501, ChangeStatus.REJECTED),  # longer than CiString500
        ("WebSocketPingInterval", "30", ChangeStatus.REBOOT_REQUIRED),
        ("FreeVendEnabled", "true", ChangeStatus.NOT_SUPPORTED),
    ],
)
def test_change_configuration_answer(key: str, value: str, expected: ChangeStatus) -> None:
    assert new_store().change(key, value) is expected


def test_an_accepted_change_is_what_the_charger_then_does() -> None:
    store = new_store()
    assert store.change("LocalAuthorizeOffline", "False") is ChangeStatus.ACCEPTED
    assert store.local_authorize_offline is False
    assert store.value("LocalAuthorizeOffline") == "false"  # booleans are stored in the spec's spelling
    store.change("MeterValueSampleInterval", "15")
    assert store.sample_interval_s == 15


def test_a_refused_change_leaves_the_value_alone() -> None:
    store = new_store()
    store.change("HeartbeatInterval", "soon")
    assert store.heartbeat_interval_s == 300


def test_reboot_required_value_takes_effect_only_after_a_reboot() -> None:
    store = new_store()
    store.change("WebSocketPingInterval", "30")
    assert store.value("WebSocketPingInterval") == "0"
    assert store.pending == {"WebSocketPingInterval": "30"}
    assert store.reboot() == ["WebSocketPingInterval"]
    assert store.value("WebSocketPingInterval") == "30"
    assert store.pending == {}


def test_get_configuration_lists_unknown_keys_apart() -> None:
    known, unknown = new_store().get(["HeartbeatInterval", "NoSuchKey", "NumberOfConnectors"])
    assert known == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    ]
    assert unknown == ["NoSuchKey"]


def test_get_configuration_without_keys_returns_every_key() -> None:
    known, unknown = new_store().get(None)
    names = [entry["key"] for entry in known]
    assert unknown == []
    assert names == sorted(names)
    assert {"LocalAuthListMaxLength", "SendLocalListMaxLength", "AllowOfflineTxForUnknownId"} <= set(names)


def test_initial_values_come_from_overrides() -> None:
    store = new_store(AllowOfflineTxForUnknownId="true")
    assert store.offline_unknown_allowed is True
    assert store.local_list_max_length == 500
    assert store.send_local_list_max_length == 50


def test_boot_interval_becomes_the_heartbeat_interval_unless_zero() -> None:
    store = new_store()
    store.set_heartbeat_interval(0)
    assert store.heartbeat_interval_s == 300
    store.set_heartbeat_interval(900)
    assert store.heartbeat_interval_s == 900

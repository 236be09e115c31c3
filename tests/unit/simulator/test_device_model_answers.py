"""A simulated 2.0.1 station answers Get/SetVariables the way use cases B05 and B06 say."""

import pytest

from chargeops.simulator.device_model import DeviceModel, GetStatus, SetStatus, standard_variables


def new_model() -> DeviceModel:
    return DeviceModel(standard_variables(items_per_message=25), local_list_max_length=400)


@pytest.mark.parametrize(
    ("component", "variable", "value", "attribute_type", "expected"),
    [
        ("AuthCtrlr", "Enabled", "false", None, SetStatus.ACCEPTED),
        ("OCPPCommCtrlr", "HeartbeatInterval", "60", "Actual", SetStatus.ACCEPTED),
        ("OCPPCommCtrlr", "HeartbeatInterval", "60", "Target", SetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE),
        ("OCPPCommCtrlr", "HeartbeatInterval", "often", None, SetStatus.REJECTED),
        ("LocalAuthListCtrlr", "ItemsPerMessage", "5", None, SetStatus.REJECTED),  # ReadOnly
        ("OCPPCommCtrlr", "WebSocketPingInterval", "30", None, SetStatus.REBOOT_REQUIRED),
        ("AuthCtrlr", "NoSuchVariable", "1", None, SetStatus.UNKNOWN_VARIABLE),
        ("NoSuchCtrlr", "Enabled", "true", None, SetStatus.UNKNOWN_COMPONENT),
    ],
)
def test_set_variable_answer(
    component: str, variable: str, value: str, attribute_type: str | None, expected: SetStatus
) -> None:
    assert new_model().set(component, variable, value, attribute_type=attribute_type) is expected


def test_get_variable_answers_with_the_actual_value() -> None:
    model = new_model()
    assert model.get("SampledDataCtrlr", "TxUpdatedInterval") == (GetStatus.ACCEPTED, "60")
    assert model.get("SampledDataCtrlr", "Nope") == (GetStatus.UNKNOWN_VARIABLE, None)
    assert model.get("Nope", "Nope") == (GetStatus.UNKNOWN_COMPONENT, None)
    assert model.get("AuthCtrlr", "Enabled", attribute_type="MaxSet") == (GetStatus.NOT_SUPPORTED_ATTRIBUTE_TYPE, None)


def test_settings_follow_the_variables() -> None:
    model = new_model()
    assert model.authorization_enabled is True
    model.set("AuthCtrlr", "Enabled", "False")
    model.set("SampledDataCtrlr", "TxUpdatedInterval", "15")
    assert model.authorization_enabled is False
    assert model.sample_interval_s == 15
    assert model.send_local_list_max_length == 25
    assert model.local_list_max_length == 400


def test_reboot_applies_pending_variables() -> None:
    model = new_model()
    model.set("OCPPCommCtrlr", "WebSocketPingInterval", "30")
    assert model.get("OCPPCommCtrlr", "WebSocketPingInterval") == (GetStatus.ACCEPTED, "0")
    assert model.reboot() == ["OCPPCommCtrlr.WebSocketPingInterval"]
    assert model.get("OCPPCommCtrlr", "WebSocketPingInterval") == (GetStatus.ACCEPTED, "30")

"""Compiled schema validation accepts what the library accepts and leaves every refusal to the library."""

import decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft4Validator
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, _validate_payload, get_validator

from chargeops.ocpp_gateway import validation

validation.install()

METER_VALUE = {
    "timestamp": "2026-11-01T10:00:00Z",
    "sampledValue": [{"value": "1234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}],
}


def library_answer(action: str, payload: dict[str, Any]) -> str | None:
    """The error class the library's own Draft4Validator gives ``payload``, or None if valid."""
    reference = Draft4Validator(get_validator(2, action, "1.6").schema)
    errors = list(reference.iter_errors(payload))
    return None if not errors else "invalid"


def gateway_answer(action: str, payload: dict[str, Any]) -> str | None:
    try:
        _validate_payload(Call("1", action, payload), "1.6")
    except OCPPError:
        return "invalid"
    return None


@pytest.mark.parametrize(
    ("action", "payload", "error"),
    [
        ("MeterValues", {"connectorId": 1, "meterValue": [METER_VALUE]}, None),
        ("MeterValues", {"connectorId": "1", "meterValue": [METER_VALUE]}, "TypeConstraintViolation"),
        ("MeterValues", {"connectorId": 1}, "ProtocolError"),
        ("MeterValues", {"connectorId": 1, "meterValue": [METER_VALUE], "extra": 1}, "FormatViolation"),
        ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}, None),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"},
            "PropertyConstraintViolation",
        ),
        ("MeterValues", {"connectorId": 1, "meterValue": []}, "OccurrenceConstraintViolation"),
        ("Heartbeat", {}, None),
    ],
)
def test_the_call_error_of_a_payload_is_the_librarys(action: str, payload: dict[str, Any], error: str | None) -> None:
    if error is None:
        _validate_payload(Call("1", action, payload), "1.6")
        return
    with pytest.raises(OCPPError) as raised:
        _validate_payload(Call("1", action, payload), "1.6")
    assert raised.value.code == error


def test_schemas_read_with_decimals_stay_with_the_library() -> None:
    validator = get_validator(2, "SetChargingProfile", "1.6", parse_float=decimal.Decimal)
    assert isinstance(validator, validation.CompiledValidator)
    assert validator._compiled is None


@given(
    st.fixed_dictionaries(
        {"connectorId": st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none())},
        optional={
            "errorCode": st.sampled_from(["NoError", "OtherError", "Bogus", 3]),
            "status": st.sampled_from(["Available", "Charging", "Faulted", "Nope"]),
            "info": st.text(max_size=60),
            "timestamp": st.text(max_size=30),
        },
    )
)
def test_compiled_and_library_validation_agree(payload: dict[str, Any]) -> None:
    assert gateway_answer("StatusNotification", payload) == library_answer("StatusNotification", payload)

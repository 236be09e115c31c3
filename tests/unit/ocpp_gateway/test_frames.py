"""Frames the library cannot route still get the CALLERROR OCPP-J asks for, spelled per version."""

import json

import pytest
from ocpp.exceptions import FormatViolationError, ProtocolError

from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway import frames


def decoded(reply: str | None) -> list[object]:
    assert reply is not None
    return list(json.loads(reply))


@pytest.mark.parametrize(
    ("raw", "version", "code", "message_id"),
    [
        ("not json", OcppVersion.V16, "FormationViolation", "-1"),
        ("not json", OcppVersion.V201, "RpcFrameworkError", "-1"),
        ('{"a": 1}', OcppVersion.V16, "FormationViolation", "-1"),
        ('[9, "abc", "Heartbeat", {}]', OcppVersion.V201, "MessageTypeNotSupported", "abc"),
        ('[2, "abc", "Heartbeat"]', OcppVersion.V16, "ProtocolError", "abc"),
    ],
)
def test_unroutable_frames_get_a_call_error(raw: str, version: OcppVersion, code: str, message_id: str) -> None:
    reply = decoded(frames.error_for_unroutable(raw, ProtocolError(), version))
    assert reply[0] == 4
    assert reply[1] == message_id
    assert reply[2] == code


def test_a_broken_reply_is_never_answered() -> None:
    assert frames.error_for_unroutable('[3, "abc"]', ProtocolError(), OcppVersion.V16) is None


@pytest.mark.parametrize(
    ("message_id", "payload", "code"),
    [(5, {}, "FormationViolation"), ("", {}, "FormationViolation"), ("id", [], "FormationViolation")],
)
def test_malformed_calls_are_refused_on_16(message_id: object, payload: object, code: str) -> None:
    reply = decoded(frames.malformed_call(message_id, "Heartbeat", payload, OcppVersion.V16))
    assert reply[2] == code


def test_a_well_formed_call_passes() -> None:
    assert frames.malformed_call("id", "Heartbeat", {}, OcppVersion.V16) is None


def test_error_codes_are_spelled_for_the_connection() -> None:
    error = frames.error_for_unroutable('[2, "x", "A"]', FormatViolationError(), OcppVersion.V16)
    assert decoded(error)[2] == "FormationViolation"
    outgoing = '[4,"x","OccurrenceConstraintViolation","",{}]'
    assert json.loads(frames.translate(outgoing, OcppVersion.V16))[2] == "OccurenceConstraintViolation"
    assert frames.translate('[3,"x",{}]', OcppVersion.V16) == '[3,"x",{}]'

"""Bad input over a real websocket: each frame gets the right CALLERROR, and the connection lives on."""

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection

from tests.e2e.harness import PASSWORD, Control, RawCharger, recv_reply

pytestmark = pytest.mark.e2e


async def exchange(connection: ClientConnection, frame: str) -> list[object]:
    await connection.send(frame)
    return await recv_reply(connection)


async def still_alive(connection: ClientConnection) -> None:
    reply = await exchange(connection, '[2,"alive","Heartbeat",{}]')
    assert reply[:2] == [3, "alive"]


@pytest.fixture
async def charger16(control: Control, raw_charger: RawCharger) -> ClientConnection:
    await control.put_desired("CP-BAD", password=PASSWORD)
    return await raw_charger("CP-BAD")


@pytest.mark.parametrize(
    ("frame", "message_id", "code"),
    [
        ("this is not json", "-1", "FormationViolation"),
        ('{"not": "a list"}', "-1", "FormationViolation"),
        ('[7,"m1","Heartbeat",{}]', "m1", "FormationViolation"),
        ('[2,"m2","Heartbeat"]', "m2", "ProtocolError"),
        ('[2,"m3","NoSuchAction",{}]', "m3", "NotImplemented"),
        ('[2,"m4","BootNotification",{"chargePointVendor":"V"}]', "m4", "ProtocolError"),
        ('[2,"m5","BootNotification",{"chargePointVendor":5,"chargePointModel":"M"}]', "m5", "TypeConstraintViolation"),
        ('[2,"m6","Heartbeat",{"extra":1}]', "m6", "FormationViolation"),
        ('[2,"m7","Heartbeat",[]]', "m7", "FormationViolation"),
        (
            '[2,"m8","StartTransaction",{"connectorId":1,"idTag":"A","meterStart":0,"timestamp":"yesterday"}]',
            "m8",
            "PropertyConstraintViolation",
        ),
        # The schema sets no minimum; stored, the session could not be read back (connector >= 0).
        (
            '[2,"m10","StartTransaction",{"connectorId":-3,"idTag":"A","meterStart":0,"timestamp":"2026-11-27T10:00:00Z"}]',
            "m10",
            "PropertyConstraintViolation",
        ),
        (
            '[2,"m9","BootNotification",{"chargePointVendor":"' + "V" * 21 + '","chargePointModel":"M"}]',
            "m9",
            "TypeConstraintViolation",
        ),
    ],
)
async def test_malformed_frame_gets_the_right_call_error(
    charger16: ClientConnection, frame: str, message_id: str, code: str
) -> None:
    reply = await exchange(charger16, frame)
    assert reply[0] == 4
    assert reply[1] == message_id
    assert reply[2] == code
    await still_alive(charger16)


async def test_an_unexpected_reply_is_ignored_and_the_connection_lives(charger16: ClientConnection) -> None:
    await charger16.send('[3,"nobody-asked",{}]')
    await still_alive(charger16)


async def test_an_oversized_frame_closes_the_connection_cleanly_and_the_charger_may_return(
    charger16: ClientConnection, raw_charger: RawCharger
) -> None:
    await charger16.send('[2,"big","DataTransfer",{"vendorId":"V","data":"' + "x" * (300 * 1024) + '"}]')
    await charger16.wait_closed()
    assert charger16.close_code == 1009
    again = await raw_charger("CP-BAD")
    await still_alive(again)


async def test_a_flood_of_calls_is_answered_in_order(charger16: ClientConnection) -> None:
    for number in range(300):
        await charger16.send(f'[2,"f{number}","Heartbeat",{{}}]')
    answered = [(await recv_reply(charger16))[1] for _ in range(300)]
    assert answered == [f"f{number}" for number in range(300)]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
ACTIONS = st.sampled_from(
    [
        "Heartbeat",
        "BootNotification",
        "StartTransaction",
        "StopTransaction",
        "MeterValues",
        "Authorize",
        "StatusNotification",
        "DataTransfer",
        "Nope",
    ]
)
FRAMES = st.one_of(
    st.text(max_size=30),
    JSON_VALUES.map(json.dumps),
    st.tuples(st.sampled_from([2, 3, 4, 5, "2"]), st.text(min_size=1, max_size=8), ACTIONS, JSON_VALUES).map(
        lambda parts: json.dumps(list(parts))
    ),
    st.tuples(
        st.text(min_size=1, max_size=8),
        ACTIONS,
        st.dictionaries(
            st.sampled_from(
                [
                    "connectorId",
                    "idTag",
                    "meterStart",
                    "timestamp",
                    "transactionId",
                    "meterStop",
                    "chargePointVendor",
                    "chargePointModel",
                    "status",
                    "errorCode",
                    "vendorId",
                    "meterValue",
                ]
            ),
            JSON_VALUES,
            max_size=6,
        ),
    ).map(lambda parts: json.dumps([2, parts[0], parts[1], parts[2]])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=FRAMES)
async def test_generated_frames_never_kill_the_connection(charger16: ClientConnection, frame: str) -> None:
    await charger16.send(frame)
    parsed: object = None
    with contextlib.suppress(ValueError):
        parsed = json.loads(frame)
    is_reply = isinstance(parsed, list) and parsed[:1] in ([3], [4])
    if not is_reply:
        reply = await recv_reply(charger16)
        assert reply[0] in (3, 4)
        if reply[0] == 4:
            assert reply[2] in {
                "FormationViolation",
                "ProtocolError",
                "NotImplemented",
                "NotSupported",
                "TypeConstraintViolation",
                "PropertyConstraintViolation",
                "OccurenceConstraintViolation",
                "GenericError",
            }
    await still_alive(charger16)

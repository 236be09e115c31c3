"""OCPP 2.0.1 TransactionEvents over a real websocket: out of order, repeated, offline, without a meter.

A charger queues events while offline and may deliver them late, twice, or across a reconnect out of
seqNo order (OCPP 2.0.1 E04, E12). Whatever the order, the store ends with one session per transaction,
its energy from the Started and Ended meter values, and a flag wherever it had to estimate or the
events came late.
"""

from typing import Any

import pytest

from tests.e2e.harness import PASSWORD, Control, Frames, RawCharger, stamp

pytestmark = pytest.mark.e2e

CP_ID = "CP-TX201"


@pytest.fixture
async def charger(control: Control, raw_charger: RawCharger) -> Frames:
    await control.put_desired(
        CP_ID, password=PASSWORD, ocppVersion="2.0.1", authorization="Required", authorizedIdTags=["TAG-OK"]
    )
    return Frames(await raw_charger(CP_ID, subprotocols=("ocpp2.0.1",)))


def event(
    event_type: str,
    seq_no: int,
    *,
    minute: float,
    energy_wh: int | None = None,
    transaction_id: str = "TX-1",
    stopped_reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A TransactionEvent of transaction ``transaction_id`` on EVSE 1, ``minute`` minutes from now."""
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": stamp(minute),
        "triggerReason": {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVCommunicationLost"}[
            event_type
        ],
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": transaction_id},
        "evse": {"id": 1, "connectorId": 1},
        **extra,
    }
    if stopped_reason is not None:
        payload["transactionInfo"]["stoppedReason"] = stopped_reason
    if energy_wh is not None:
        payload["meterValue"] = [
            {
                "timestamp": payload["timestamp"],
                "sampledValue": [
                    {
                        "value": energy_wh,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh"},
                    }
                ],
            }
        ]
    return payload


ID_TOKEN = {"idToken": {"idToken": "TAG-OK", "type": "ISO14443"}}


async def the_session(control: Control) -> dict[str, Any]:
    status, page = await control.request("GET", f"/v1/sessions?chargePointId={CP_ID}")
    assert status == 200
    [session] = page["items"]
    return dict(session)


async def test_an_update_before_its_start_and_repeated_seq_nos_leave_one_session_with_the_right_energy(
    charger: Frames, control: Control
) -> None:
    updated = event("Updated", 1, minute=1, energy_wh=3000)
    ended = event("Ended", 2, minute=2, energy_wh=8000, stopped_reason="EVDisconnected")
    await charger.call("TransactionEvent", updated)  # delivered first, as after a reconnect
    started = await charger.call("TransactionEvent", event("Started", 0, minute=0, energy_wh=1000, **ID_TOKEN))
    assert started["idTokenInfo"]["status"] == "Accepted"
    await charger.call("TransactionEvent", updated)  # the same seqNo again: its answer was lost
    await charger.call("TransactionEvent", ended)
    await charger.call("TransactionEvent", ended)

    session = await the_session(control)
    assert session["transactionId"] == "TX-1"
    assert session["idTag"] == "TAG-OK"
    assert session["connectorId"] == 1
    assert (session["meterStartWh"], session["meterStopWh"], session["energyWh"]) == (1000, 8000, 7000)
    assert session["startedAt"] < session["stoppedAt"]
    assert session["stopReason"] == "EVDisconnected"
    assert session["flags"] == []
    status, readings = await control.request("GET", f"/v1/sessions/{session['id']}/readings")
    assert status == 200
    assert [reading["energyWh"] for reading in readings] == [1000, 3000, 8000]


@pytest.mark.parametrize("late", ["Started", "Updated", "Ended"])
async def test_an_event_marked_offline_flags_the_session_delivered_late(
    charger: Frames, control: Control, late: str
) -> None:
    events = [
        event("Started", 0, minute=0, energy_wh=100, **ID_TOKEN),
        event("Updated", 1, minute=1, energy_wh=200),
        event("Ended", 2, minute=2, energy_wh=300),
    ]
    for payload in events:
        if payload["eventType"] == late:
            payload["offline"] = True
        await charger.call("TransactionEvent", payload)

    session = await the_session(control)
    assert session["flags"] == ["DeliveredLate"]
    assert session["energyWh"] == 200


async def test_an_end_without_a_meter_value_is_estimated_from_the_last_reading_and_flagged(
    charger: Frames, control: Control
) -> None:
    await charger.call("TransactionEvent", event("Started", 0, minute=0, energy_wh=1000, **ID_TOKEN))
    await charger.call("TransactionEvent", event("Updated", 1, minute=1, energy_wh=4000))
    await charger.call("TransactionEvent", event("Ended", 3, minute=3))

    session = await the_session(control)
    assert (session["meterStopWh"], session["energyWh"]) == (4000, 3000)
    assert session["stopReason"] == "Local"  # 2.0.1 TransactionType: stoppedReason may be omitted only for Local
    assert session["flags"] == ["EstimatedStop"]

    # A reading queued offline before the end arrives last; the estimate follows it, still flagged.
    await charger.call("TransactionEvent", event("Updated", 2, minute=2, energy_wh=5000, offline=True))
    session = await the_session(control)
    assert (session["meterStopWh"], session["energyWh"]) == (5000, 4000)
    assert session["flags"] == ["EstimatedStop", "DeliveredLate"]


async def test_a_transaction_seen_only_through_updates_and_its_end_is_flagged_estimated_start(
    charger: Frames, control: Control
) -> None:
    await charger.call("TransactionEvent", event("Updated", 1, minute=1, energy_wh=2500, **ID_TOKEN))
    await charger.call("TransactionEvent", event("Ended", 2, minute=2, energy_wh=6000))

    session = await the_session(control)
    assert (session["meterStartWh"], session["meterStopWh"], session["energyWh"]) == (2500, 6000, 3500)
    assert session["idTag"] == "TAG-OK"
    assert session["flags"] == ["EstimatedStart"]

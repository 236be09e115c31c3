"""OCPP 1.6 sessions over a real websocket: stored before the reply, redelivery never counts twice."""

import pytest

from tests.e2e.harness import PASSWORD, Control, Frames, RawCharger, stamp

pytestmark = pytest.mark.e2e


@pytest.fixture
async def charger(control: Control, raw_charger: RawCharger) -> Frames:
    await control.put_desired("CP-TX", password=PASSWORD, authorization="Required", authorizedIdTags=["TAG-OK"])
    return Frames(await raw_charger("CP-TX"))


def start(**changes: object) -> dict[str, object]:
    """A StartTransaction stamped when it is made: a module-level stamp would look delivered late to a
    test that runs more than five minutes after collection."""
    return {"connectorId": 1, "idTag": "TAG-OK", "meterStart": 1000, "timestamp": stamp(), **changes}


async def test_session_is_stored_with_its_energy(charger: Frames, control: Control) -> None:
    started = await charger.call("StartTransaction", start())
    assert started["idTagInfo"]["status"] == "Accepted"
    stop = {
        "transactionId": started["transactionId"],
        "meterStop": 8500,
        "timestamp": stamp(1),
        "reason": "EVDisconnected",
    }
    await charger.call("StopTransaction", stop)
    status, page = await control.request("GET", "/v1/sessions?chargePointId=CP-TX")
    assert status == 200
    [session] = page["items"]
    assert session["energyWh"] == 7500
    assert session["stopReason"] == "EVDisconnected"
    assert session["flags"] == []


async def test_retried_start_and_stop_count_once(charger: Frames, control: Control) -> None:
    message = start()
    first = await charger.call("StartTransaction", message)
    again = await charger.call("StartTransaction", message)
    assert again["transactionId"] == first["transactionId"]
    stop = {"transactionId": first["transactionId"], "meterStop": 2000, "timestamp": stamp(1)}
    await charger.call("StopTransaction", stop)
    await charger.call("StopTransaction", stop)
    _, page = await control.request("GET", "/v1/sessions?chargePointId=CP-TX")
    assert [s["energyWh"] for s in page["items"]] == [1000]


async def test_unauthorized_tag_is_refused_online_but_a_delivered_session_is_kept_flagged(
    charger: Frames, control: Control
) -> None:
    refused = await charger.call("Authorize", {"idTag": "STRANGER"})
    assert refused["idTagInfo"]["status"] == "Invalid"
    started = await charger.call("StartTransaction", start(idTag="STRANGER"))
    assert started["idTagInfo"]["status"] == "Invalid"
    _, page = await control.request("GET", "/v1/sessions?chargePointId=CP-TX")
    assert page["items"][0]["flags"] == ["UnknownIdTag"]


async def test_a_start_delivered_after_an_offline_hour_is_flagged_late(charger: Frames, control: Control) -> None:
    await charger.call("StartTransaction", start(timestamp=stamp(-60)))
    _, page = await control.request("GET", "/v1/sessions?chargePointId=CP-TX")
    assert page["items"][0]["flags"] == ["DeliveredLate"]


async def test_meter_stop_below_start_is_flagged_not_billed_silently(charger: Frames, control: Control) -> None:
    started = await charger.call("StartTransaction", start())
    stop = {"transactionId": started["transactionId"], "meterStop": 10, "timestamp": stamp(1)}
    await charger.call("StopTransaction", stop)
    _, page = await control.request("GET", "/v1/sessions?chargePointId=CP-TX")
    assert "NegativeEnergy" in page["items"][0]["flags"]


async def test_meter_values_are_kept_as_readings(charger: Frames, control: Control) -> None:
    started = await charger.call("StartTransaction", start())
    values = {
        "connectorId": 1,
        "transactionId": started["transactionId"],
        "meterValue": [{"timestamp": stamp(0.5), "sampledValue": [{"value": "4.25", "unit": "kWh"}]}],
    }
    await charger.call("MeterValues", values)
    _, page = await control.request("GET", "/v1/sessions?chargePointId=CP-TX")
    status, readings = await control.request("GET", f"/v1/sessions/{page['items'][0]['id']}/readings")
    assert status == 200
    assert [r["energyWh"] for r in readings] == [4250]

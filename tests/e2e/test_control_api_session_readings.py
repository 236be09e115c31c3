"""``GET /v1/sessions?withReadings=true`` and repeated ``idTag``: what the billing pass lists sessions with.

Sessions come from a charger over a real websocket (StartTransaction, MeterValues, StopTransaction); the
listing with readings must hold the same sessions as the plain one, each with exactly what
``/v1/sessions/{id}/readings`` answers, page by page, through the HTTP API and the operator's client.
"""

import pytest

from chargeops.api.gateway import SessionWithReadingsPage
from chargeops.operator.gateway_client import GatewayClient
from tests.e2e.harness import PASSWORD, Control, Frames, RawCharger, RunningGateway, stamp

pytestmark = pytest.mark.e2e

TAGS = ("ADA-1", "ADA-2", "BOB-1")


async def charge(charger: Frames, id_tag: str, *, minute: int, readings: int) -> None:
    """One session of ``id_tag`` starting ``minute`` minutes ago, with ``readings`` MeterValues."""
    started = await charger.call(
        "StartTransaction", {"connectorId": 1, "idTag": id_tag, "meterStart": 1000, "timestamp": stamp(-minute)}
    )
    for number in range(1, readings + 1):
        sampled = {"timestamp": stamp(-minute + number * 0.1), "sampledValue": [{"value": str(1000 + 100 * number)}]}
        await charger.call(
            "MeterValues",
            {"connectorId": 1, "transactionId": started["transactionId"], "meterValue": [sampled]},
        )
    stop = {"transactionId": started["transactionId"], "meterStop": 2000, "timestamp": stamp(-minute + 0.9)}
    await charger.call("StopTransaction", stop)


@pytest.fixture
async def charged(control: Control, raw_charger: RawCharger) -> None:
    await control.put_desired("CP-READ", password=PASSWORD)
    charger = Frames(await raw_charger("CP-READ"))
    for number in range(9):
        await charge(charger, TAGS[number % 3], minute=30 - number, readings=number % 4)


async def test_each_session_comes_with_the_readings_its_own_route_answers(charged: None, control: Control) -> None:
    status, page = await control.request("GET", "/v1/sessions?withReadings=true&limit=100")
    assert status == 200
    _, plain = await control.request("GET", "/v1/sessions?limit=100")

    assert [{k: v for k, v in s.items() if k != "readings"} for s in page["items"]] == plain["items"]
    for session in page["items"]:
        _, readings = await control.request("GET", f"/v1/sessions/{session['id']}/readings")
        assert session["readings"] == readings
    assert [len(s["readings"]) for s in page["items"]] == [n % 4 for n in range(9)]
    SessionWithReadingsPage.model_validate(page)


async def test_a_repeated_id_tag_lists_the_sessions_of_any_of_them_page_by_page(
    charged: None, control: Control
) -> None:
    seen: list[str] = []
    cursor = ""
    while True:
        status, page = await control.request(
            "GET", f"/v1/sessions?idTag=ADA-1&idTag=ADA-2&withReadings=true&limit=2{cursor}"
        )
        assert status == 200
        seen += [session["idTag"] for session in page["items"]]
        if page["nextCursor"] is None:
            break
        cursor = f"&cursor={page['nextCursor']}"
    assert seen == ["ADA-1", "ADA-2"] * 3


async def test_with_readings_must_be_true_or_false(control: Control) -> None:
    status, body = await control.request("GET", "/v1/sessions?withReadings=yes")
    assert (status, body["reason"]) == (400, "InvalidQuery")
    assert "withReadings" in body["message"]


async def test_the_operator_client_lists_a_subscriptions_sessions_with_readings(
    charged: None, gateway: RunningGateway
) -> None:
    async with GatewayClient(gateway.control_url, token=gateway.token) as client:
        listed = [s async for s in client.sessions_with_readings(id_tag=["ADA-2", "BOB-1"])]
        plain = [s async for s in client.sessions(id_tag=["ADA-2", "BOB-1"])]
        nothing = [s async for s in client.sessions_with_readings(id_tag=[])]
        readings = [await client.readings(s.id) for s in listed]

    assert [s.id for s in listed] == [s.id for s in plain]
    assert [s.id_tag for s in listed] == ["ADA-2", "BOB-1"] * 3
    assert [s.readings for s in listed] == readings
    assert nothing == []

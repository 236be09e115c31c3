"""``GET /v1/sessions?withReadings=true&readingsFormat=offsets``: the billing pass's listing, readings as columns.

Sessions come from a charger over a real websocket; the columns must hold what the records of
``withReadings=true`` hold, through the HTTP API and the operator's client, and an unknown format is refused.
"""

from datetime import timedelta

import pytest

from chargeops.operator.gateway_client import GatewayClient
from tests.e2e.harness import PASSWORD, Control, Frames, RawCharger, RunningGateway
from tests.e2e.test_control_api_session_readings import charge

pytestmark = pytest.mark.e2e

MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
async def charged(control: Control, raw_charger: RawCharger) -> None:
    await control.put_desired("CP-COLS", password=PASSWORD)
    charger = Frames(await raw_charger("CP-COLS"))
    for number in range(4):
        await charge(charger, ("ADA-1", "BOB-1")[number % 2], minute=20 - number, readings=number)


async def test_the_columns_hold_what_the_records_hold(charged: None, gateway: RunningGateway) -> None:
    async with GatewayClient(gateway.control_url, token=gateway.token) as client:
        columns = [s async for s in client.sessions_with_reading_offsets(id_tag=["ADA-1", "BOB-1"])]
        records = [s async for s in client.sessions_with_readings(id_tag=["ADA-1", "BOB-1"])]
        nothing = [s async for s in client.sessions_with_reading_offsets(id_tag=[])]

    assert [s.model_dump(exclude={"reading_offsets_us", "reading_energies_wh"}) for s in columns] == [
        s.model_dump(exclude={"readings"}) for s in records
    ]
    assert [s.reading_offsets_us for s in columns] == [
        [(r.timestamp - s.started_at) // MICROSECOND for r in s.readings] for s in records
    ]
    assert [s.reading_energies_wh for s in columns] == [[r.energy_wh for r in s.readings] for s in records]
    assert [len(s.reading_offsets_us) for s in columns] == [0, 1, 2, 3]
    assert nothing == []


async def test_the_readings_format_is_list_or_offsets(control: Control) -> None:
    status, body = await control.request("GET", "/v1/sessions?withReadings=true&readingsFormat=columns")
    assert (status, body["reason"]) == (400, "InvalidQuery")
    assert "readingsFormat" in body["message"]
    status, page = await control.request("GET", "/v1/sessions?withReadings=true&readingsFormat=offsets")
    assert (status, page) == (200, {"items": [], "nextCursor": None})

"""The development switch (``--dev-accept-unknown``): unknown chargers connect without a password and
charge free, and the gateway says so loudly. Without it an unknown id gets 401 (``test_gateway_handshake.py``).
"""

import logging
from collections.abc import AsyncIterator

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.harness import (
    PASSWORD,
    Control,
    Frames,
    RunningGateway,
    connect_charger,
    control_client,
    gateway_settings,
    running_gateway,
    stamp,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def dev_gateway(database_url: str) -> AsyncIterator[RunningGateway]:
    async with running_gateway(gateway_settings(database_url, dev_accept_unknown=True)) as running:
        yield running


@pytest.fixture
async def dev_control(dev_gateway: RunningGateway) -> AsyncIterator[Control]:
    async with control_client(dev_gateway) as client:
        yield client


async def test_an_unknown_16_charger_connects_without_a_password_and_any_tag_charges_free(
    dev_gateway: RunningGateway, dev_control: Control, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="chargeops"):
        connection = await connect_charger(dev_gateway, "DEV-16", password=None)
    try:
        assert connection.subprotocol == "ocpp1.6"
        assert any("DEVELOPMENT SWITCH" in record.getMessage() for record in caplog.records)
        charger = Frames(connection)
        boot = await charger.call("BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Dev"})
        assert boot["status"] == "Accepted"
        for tag in ("ANYONE", "SOMEONE-ELSE"):
            answer = await charger.call("Authorize", {"idTag": tag})
            assert answer["idTagInfo"]["status"] == "Accepted"
        started = await charger.call(
            "StartTransaction", {"connectorId": 1, "idTag": "ANYONE", "meterStart": 0, "timestamp": stamp()}
        )
        assert started["idTagInfo"]["status"] == "Accepted"
        _, page = await dev_control.request("GET", "/v1/sessions?chargePointId=DEV-16")
        [session] = page["items"]
        assert session["idTag"] == "ANYONE"
        assert session["flags"] == []
        assert (await dev_control.observed("DEV-16"))["connected"] is True
    finally:
        await connection.close()


async def test_an_unknown_201_charger_connects_without_a_password_and_any_token_is_accepted(
    dev_gateway: RunningGateway,
) -> None:
    connection = await connect_charger(dev_gateway, "DEV-201", password=None, subprotocols=("ocpp2.0.1",))
    try:
        assert connection.subprotocol == "ocpp2.0.1"
        answer = await Frames(connection).call("Authorize", {"idToken": {"idToken": "WHOEVER", "type": "ISO14443"}})
        assert answer["idTokenInfo"]["status"] == "Accepted"
    finally:
        await connection.close()


async def test_a_known_charger_still_needs_its_password_with_the_switch_on(
    dev_gateway: RunningGateway, dev_control: Control
) -> None:
    await dev_control.put_desired("KNOWN", password=PASSWORD, authorization="Required", authorizedIdTags=["MINE"])
    with pytest.raises(InvalidStatus) as refused:
        await connect_charger(dev_gateway, "KNOWN", password=None)
    assert refused.value.response.status_code == 401
    connection = await connect_charger(dev_gateway, "KNOWN")
    try:
        # Its desired state, not the switch, decides who charges.
        answer = await Frames(connection).call("Authorize", {"idTag": "STRANGER"})
        assert answer["idTagInfo"]["status"] == "Invalid"
    finally:
        await connection.close()

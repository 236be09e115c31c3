"""Commands from our side (OCPP 1.6 §5) through the control API to a live simulated charger.

``POST /v1/chargers/{id}/commands/{name}`` makes one call to the connected charger and returns its answer;
the charger then does what it accepted (starts or stops a session, reboots, changes availability), and
what it reports lands in the store like any other message.
"""

from typing import Any

import pytest

from chargeops.api.v1alpha1 import OcppVersion
from tests.e2e.harness import PASSWORD, Control, RunningGateway
from tests.e2e.test_gateway_convergence import converged, eventually, station

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

COMMANDS = "/v1/chargers/{cp_id}/commands/{name}"


async def command(control: Control, cp_id: str, name: str, body: Any = None) -> tuple[int, Any]:
    return await control.request("POST", COMMANDS.format(cp_id=cp_id, name=name), body)


async def sessions_of(control: Control, cp_id: str) -> list[dict[str, Any]]:
    status, page = await control.request("GET", f"/v1/sessions?chargePointId={cp_id}")
    assert status == 200
    return list(page["items"])


async def test_remote_start_and_stop_run_a_session_that_lands_in_the_store(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired(
        "CP-REMOTE", password=PASSWORD, authorization="Required", authorizedIdTags=["TAG-R"], revision=1
    )
    async with station(gateway, "CP-REMOTE") as charger:
        await converged(control, "CP-REMOTE", 1)
        status, answer = await command(
            control, "CP-REMOTE", "remote-start-transaction", {"idTag": "TAG-R", "connectorId": 1}
        )
        assert (status, answer) == (200, {"status": "Accepted"})

        async def started() -> list[dict[str, Any]]:
            return await sessions_of(control, "CP-REMOTE")

        [session] = await eventually(started)
        assert session["idTag"] == "TAG-R"
        assert session["connectorId"] == 1
        assert session["stoppedAt"] is None

        status, answer = await command(
            control, "CP-REMOTE", "remote-stop-transaction", {"transactionId": int(session["transactionId"])}
        )
        assert (status, answer) == (200, {"status": "Accepted"})

        async def stopped() -> list[dict[str, Any]]:
            return [s for s in await sessions_of(control, "CP-REMOTE") if s["stoppedAt"]]

        [closed] = await eventually(stopped)
        assert closed["id"] == session["id"]
        assert closed["stopReason"] == "Remote"
        assert closed["energyWh"] >= 0
        assert charger.state.connectors[1].session is None


async def test_remote_stop_of_a_transaction_the_charger_does_not_run_is_rejected(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired("CP-NOTX", password=PASSWORD, revision=1)
    async with station(gateway, "CP-NOTX"):
        await converged(control, "CP-NOTX", 1)
        status, answer = await command(control, "CP-NOTX", "remote-stop-transaction", {"transactionId": 424242})
        assert (status, answer) == (200, {"status": "Rejected"})


async def test_reset_change_availability_clear_cache_and_trigger_return_the_chargers_status(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired("CP-CMD", password=PASSWORD, revision=1)
    async with station(gateway, "CP-CMD") as charger:
        await converged(control, "CP-CMD", 1)

        status, answer = await command(
            control, "CP-CMD", "change-availability", {"connectorId": 1, "type": "Inoperative"}
        )
        assert (status, answer) == (200, {"status": "Accepted"})
        assert not charger.state.connectors[1].operative

        async def reported_unavailable() -> bool:
            return (await control.observed("CP-CMD"))["connectorStatus"].get("1") == "Unavailable"

        await eventually(reported_unavailable)

        status, answer = await command(control, "CP-CMD", "clear-cache")
        assert (status, answer) == (200, {"status": "Accepted"})

        status, answer = await command(control, "CP-CMD", "trigger-message", {"requestedMessage": "Heartbeat"})
        assert (status, answer) == (200, {"status": "Accepted"})
        status, answer = await command(
            control, "CP-CMD", "trigger-message", {"requestedMessage": "StatusNotification", "connectorId": 7}
        )
        assert (status, answer) == (200, {"status": "Rejected"})

        boots = charger.stats.boots
        status, answer = await command(control, "CP-CMD", "reset", {"type": "Soft"})
        assert (status, answer) == (200, {"status": "Accepted"})
        await eventually(lambda: charger.stats.boots == boots + 1)
        await charger.wait_online()


async def test_a_command_to_a_charger_that_is_not_connected_is_refused_with_409(control: Control) -> None:
    await control.put_desired("CP-AWAY", password=PASSWORD)
    for cp_id in ("CP-AWAY", "CP-NEVER-HEARD-OF"):
        status, body = await command(control, cp_id, "reset", {"type": "Soft"})
        assert status == 409
        assert body["reason"] == "ChargerNotConnected"
        assert cp_id in body["message"]


INVALID_COMMANDS = [
    ("reset", {"type": "Medium"}, "type"),
    ("change-availability", {"connectorId": 1}, "type"),
    ("change-availability", {"connectorId": -1, "type": "Operative"}, "connectorId"),
    ("remote-start-transaction", {"idTag": "T" * 21}, "idTag"),
    ("remote-start-transaction", {}, "idTag"),
    ("remote-stop-transaction", {"transactionId": "one"}, "transactionId"),
    ("trigger-message", {"requestedMessage": "SignCertificate"}, "requestedMessage"),
    ("clear-cache", {"please": True}, "please"),
]


async def test_a_command_with_an_invalid_body_is_refused_with_422_naming_the_field(control: Control) -> None:
    for name, body, field in INVALID_COMMANDS:
        status, answer = await command(control, "CP-ANY", name, body)
        assert (status, answer["reason"]) == (422, "InvalidCommand"), (name, body)
        assert answer["message"].startswith(f"{field}: "), answer


async def test_an_unknown_command_is_refused_with_404(control: Control) -> None:
    status, body = await command(control, "CP-ANY", "unlock-connector", {"connectorId": 1})
    assert status == 404
    assert body["reason"] == "UnknownCommand"


async def test_a_command_to_a_201_charger_is_refused_with_502_naming_the_version(
    gateway: RunningGateway, control: Control
) -> None:
    await control.put_desired("CP-201-CMD", password=PASSWORD, ocppVersion="2.0.1", revision=1)
    async with station(gateway, "CP-201-CMD", ocpp_version=OcppVersion.V201):
        await converged(control, "CP-201-CMD", 1)
        status, body = await command(control, "CP-201-CMD", "clear-cache")
        assert status == 502
        assert body["reason"] == "ChargerRefused"
        assert "OCPP 1.6" in body["message"]

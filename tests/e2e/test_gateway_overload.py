"""A store too overloaded to write: a charger's boot is answered Pending, and the boot it sends again is
accepted once the store can take it; a status it cannot take is answered InternalError and the connection
goes on; and a charger's answer to our call is read while its own call waits for the store.

The charger's observed-state row is held locked by another PostgreSQL session and the store gives up on a
lock after 0.5 s, so the boot's write fails as it does on an overloaded database (``tests.row_locks``).
"""

import asyncio
import json
import logging
from typing import Any

import pytest
from ocpp.exceptions import InternalError
from ocpp.v16 import call
from websockets.asyncio.client import ClientConnection

from chargeops.ocpp_gateway import metrics
from chargeops.ocpp_gateway.actions.registration import PENDING_BASE_S, PENDING_JITTER_S
from chargeops.ocpp_gateway.store import Store
from tests.e2e.harness import PASSWORD, connect_charger, control_client, gateway_on
from tests.e2e.test_gateway_commands import command
from tests.e2e.test_gateway_convergence import converged, station
from tests.row_locks import observed_row_locked

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

LOCK_TIMEOUT = {"connect_args": {"server_settings": {"lock_timeout": "500"}}}
BOOT_16 = {"chargePointVendor": "chargeops-test", "chargePointModel": "Lean"}
BOOT_201 = {"chargingStation": {"vendorName": "chargeops-test", "model": "Lean"}, "reason": "PowerUp"}


def boots(status: str) -> float:
    return metrics.REGISTRY.get_sample_value("chargeops_gateway_boots_total", {"status": status}) or 0.0


async def boot(connection: ClientConnection, message_id: str, payload: dict[str, Any]) -> None:
    await connection.send(json.dumps([2, message_id, "BootNotification", payload]))


async def next_frame(connection: ClientConnection) -> list[Any]:
    return list(json.loads(await asyncio.wait_for(connection.recv(), 10)))


@pytest.mark.parametrize(
    ("version", "payload", "first_convergence_call"),
    [
        pytest.param("1.6", BOOT_16, "GetConfiguration", id="1.6"),
        pytest.param("2.0.1", BOOT_201, "GetVariables", id="2.0.1"),
    ],
)
async def test_a_boot_the_store_cannot_take_is_answered_pending_and_accepted_once_it_can(
    postgres_database: str, version: str, payload: dict[str, Any], first_convergence_call: str
) -> None:
    # Found at 50,000 chargers on one PostgreSQL, where such boots were answered InternalError and the
    # benchmark's chargers gave up. A boot wait longer than the test: convergence starts on the accepted boot.
    store = await Store.open(postgres_database, engine_options=LOCK_TIMEOUT)
    async with gateway_on(store, postgres_database, boot_wait_s=60) as running, control_client(running) as control:
        await control.put_desired("CP-1", password=PASSWORD, ocppVersion=version)
        # Connected before the row is locked: the write recording the arrival must pass, or the
        # connection is closed 1013 before it can boot.
        connection = await connect_charger(running, "CP-1", subprotocols=(f"ocpp{version}",))
        pending_before, accepted_before = boots("Pending"), boots("Accepted")
        async with observed_row_locked(postgres_database, "CP-1") as lock:
            await boot(connection, "boot-1", payload)
            answer = await next_frame(connection)
            await lock.release()

        assert answer[:2] == [3, "boot-1"], answer
        assert answer[2]["status"] == "Pending"
        assert PENDING_BASE_S <= answer[2]["interval"] <= PENDING_BASE_S + PENDING_JITTER_S
        assert boots("Pending") - pending_before == 1
        # Pending is not booted: convergence, which waits for the boot, sends the charger nothing yet.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(connection.recv(), 0.5)
        assert (await control.observed("CP-1"))["vendor"] is None

        await boot(connection, "boot-2", payload)
        # The answer and convergence's first call, in either order: the accepted boot starts both.
        frames = {frame[0]: frame for frame in [await next_frame(connection), await next_frame(connection)]}
        assert frames[3][:2] == [3, "boot-2"], frames
        assert frames[3][2]["status"] == "Accepted"
        assert frames[3][2]["interval"] == 300  # the heartbeat interval, as for any accepted boot
        assert frames[2][2] == first_convergence_call
        assert boots("Accepted") - accepted_before == 1
        observed = await control.observed("CP-1")
        assert (observed["vendor"], observed["model"], observed["connected"]) == ("chargeops-test", "Lean", True)
        await connection.close()


async def test_a_chargers_answer_is_read_while_its_own_call_waits_for_the_store(postgres_database: str) -> None:
    # Found at 50,000 chargers on one PostgreSQL: the gateway read a charger's frames one at a time, so its
    # answer to GetConfiguration waited unread behind its own MeterValues, held up by the store, until the
    # call timed out, and convergence failed with "got no answer" on a charger that had answered at once.
    store = await Store.open(postgres_database)
    # A call timeout longer than the test: an answer read only after the lock is released cannot pass.
    async with (
        gateway_on(store, postgres_database, response_timeout_s=120) as running,
        control_client(running) as control,
    ):
        await control.put_desired("CP-1", password=PASSWORD, revision=1)
        async with station(running, "CP-1") as charger:
            await converged(control, "CP-1", 1)
            async with observed_row_locked(postgres_database, "CP-1") as lock:
                status = asyncio.create_task(
                    charger.request(call.StatusNotification(connector_id=1, error_code="NoError", status="Faulted"))
                )
                await lock.until_waited_on()

                answered = await asyncio.wait_for(command(control, "CP-1", "clear-cache"), 20)

                assert answered == (200, {"status": "Accepted"})
                assert not status.done()  # its StatusNotification still waits for the store
                await lock.release()
                await asyncio.wait_for(status, 20)
            assert (await control.observed("CP-1"))["connectorStatus"]["1"] == "Faulted"


async def test_a_status_the_store_cannot_take_is_answered_internal_error_in_one_log_line(
    postgres_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Found at 50,000 chargers: the library logged each as "Error while handling request" with a
    # 60-line traceback, 207 of them in one run, burying the lines that said what was wrong.
    store = await Store.open(postgres_database, engine_options=LOCK_TIMEOUT)
    async with (
        gateway_on(store, postgres_database) as running,
        control_client(running) as control,
    ):
        await control.put_desired("CP-1", password=PASSWORD, revision=1)
        async with station(running, "CP-1") as charger:
            await converged(control, "CP-1", 1)
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                async with observed_row_locked(postgres_database, "CP-1"):
                    with pytest.raises(InternalError, match="store is unavailable"):
                        await charger.request(
                            call.StatusNotification(connector_id=1, error_code="NoError", status="Faulted")
                        )

            gateways = [r for r in caplog.records if not r.name.startswith("chargeops.simulator")]
            assert [(r.levelname, r.getMessage().split(" (")[0]) for r in gateways] == [
                ("WARNING", "[CP-1] StatusNotification")
            ]
            assert "answered InternalError" in gateways[0].getMessage()
            # The connection goes on, and the next status is stored.
            await charger.request(call.StatusNotification(connector_id=1, error_code="NoError", status="Faulted"))
            assert (await control.observed("CP-1"))["connectorStatus"]["1"] == "Faulted"

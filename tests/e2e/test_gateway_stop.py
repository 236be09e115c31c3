"""A gateway that stops cleanly records, in one go, that its chargers left, and when each was last heard.

Three replicas of 16,667 chargers each, writing one disconnect per connection, took 93 s to stop: three times
what Kubernetes waits before killing a pod (30 s).
"""

import logging

import pytest

from chargeops.ocpp_gateway.store import Store
from tests.e2e.harness import connect_charger, control_client, gateway_settings, recv_reply, running_gateway
from tests.e2e.test_gateway_handshake import known

pytestmark = pytest.mark.e2e


async def test_a_stopping_gateway_records_its_chargers_departures_together(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = gateway_settings(database_url)
    with caplog.at_level(logging.INFO, logger="chargeops.ocpp_gateway"):
        async with running_gateway(settings) as gateway, control_client(gateway) as control:
            for cp_id in ("CP-1", "CP-2", "CP-3"):
                await known(control, cp_id)
            quiet = [await connect_charger(gateway, cp_id) for cp_id in ("CP-1", "CP-2")]
            talking = await connect_charger(gateway, "CP-3")
            await talking.send('[2,"hb","Heartbeat",{}]')
            assert (await recv_reply(talking))[:2] == [3, "hb"]
            assert (await control.observed("CP-3"))["connected"] is True

    messages = [record.getMessage() for record in caplog.records]
    assert "Recorded the departure of 3 chargers." in messages
    assert not any(message.startswith("Disconnected (close code") for message in messages)  # none one by one
    store = await Store.open(database_url)
    try:
        states = {cp_id: await store.get_observed(cp_id) for cp_id in ("CP-1", "CP-2", "CP-3")}
    finally:
        await store.close()
    assert all(not state.connected and state.replica is None for state in states.values())
    seen = {cp_id: state.last_seen for cp_id, state in states.items()}
    assert None not in seen.values()
    assert seen["CP-3"] > seen["CP-2"] > seen["CP-1"]  # each its own: CP-3 was heard from last
    for connection in (*quiet, talking):
        await connection.close()

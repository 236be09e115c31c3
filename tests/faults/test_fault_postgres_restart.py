"""PostgreSQL stopped and started again under a running gateway, with chargers charging through it.

The gateway runs as its own process on a PostgreSQL server of this test's own (the session's server is
shared by every other test and is not restarted). Each cycle starts a session on every charger, stops
PostgreSQL, stops the sessions and starts new ones while it is down, starts it again, and lets the
chargers deliver what they hold: the gateway must answer or refuse so that the chargers queue or retry,
and at the end the store holds every session once, stopped, with the charger's energy.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import aiohttp
import pytest

from chargeops.devcluster import postgres
from chargeops.ocpp_gateway.store import Store
from chargeops.simulator.station import Station
from tests.e2e.harness import PASSWORD, Control
from tests.e2e.test_gateway_crash_recovery import GatewayProcess
from tests.faults.conftest import fault_cycles
from tests.faults.test_fault_gateway_sigkill import (
    close_stations,
    doubled_and_unstopped,
    stations_for,
    stored_sessions,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(120 + 60 * fault_cycles())]

CHARGERS = 4
# While the database is down the gateway leaves transaction messages unanswered and closes the connection, so
# the charger keeps them queued and delivers them after it reconnects. A CALLERROR instead would make the
# charger drop each message after TransactionMessageAttempts refusals (OCPP 1.6 §3.8): one attempt here, so a
# single refused transaction message shows up as a dropped one.
RETRIES = {"TransactionMessageAttempts": "1", "TransactionMessageRetryInterval": "1"}
# Long enough that the chargers' calls meet the stopped database, not only the restart.
DOWN_S = 1.0


@pytest.fixture
def own_postgres() -> Iterator[postgres.PostgresServer]:
    """A PostgreSQL server for this test alone, which it stops and starts."""
    with postgres.PostgresServer.start() as server:
        yield server


@pytest.fixture
async def gateway_on_postgres(own_postgres: postgres.PostgresServer) -> AsyncIterator[GatewayProcess]:
    url = own_postgres.create_database()
    async with await Store.open(url):  # migrated before the gateway starts, as a deployment does
        pass
    process = GatewayProcess(url)
    await process.start()
    yield process
    await process.stop()


async def stop_measured(station: Station) -> int:
    """Stop the session on connector 1 and return the energy the charger measured for it."""
    connector = station.state.connectors[1]
    assert connector.session is not None
    meter_start = connector.session.meter_start_wh
    await station.stop_session(1)
    return connector.register.energy_wh - meter_start


async def test_sessions_across_postgres_restarts_are_stored_once(
    own_postgres: postgres.PostgresServer, gateway_on_postgres: GatewayProcess, figure: Callable[[str], None]
) -> None:
    cycles = fault_cycles()
    gateway = gateway_on_postgres
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {gateway.token}"}) as http:
        control = Control(http, gateway.control_url)
        ids = [f"PG-{n}" for n in range(CHARGERS)]
        for cp_id in ids:
            await control.put_desired(cp_id, password=PASSWORD, authorization="Free")
        stations = stations_for(gateway, ids, configuration=RETRIES)
        tasks = [asyncio.create_task(station.run()) for station in stations]
        expected: dict[str, list[int]] = {cp_id: [] for cp_id in ids}
        try:
            await asyncio.gather(*(station.wait_online() for station in stations))
            for _ in range(cycles):
                await asyncio.gather(*(station.start_session("T") for station in stations))
                await asyncio.sleep(0.2)
                await asyncio.to_thread(own_postgres.halt)
                for station in stations:  # stopped and started again while the database is down
                    expected[station.config.charge_point_id].append(await stop_measured(station))
                    await station.start_session("T")
                await asyncio.sleep(DOWN_S)
                for station in stations:
                    expected[station.config.charge_point_id].append(await stop_measured(station))
                own_postgres.resume()  # the main thread: see PostgresServer.resume
                await asyncio.gather(*(station.wait_online(timeout_s=30) for station in stations))
                await asyncio.gather(*(station.wait_drained(timeout_s=60) for station in stations))
        finally:
            await close_stations(stations, tasks)
        stored = await stored_sessions(control, ids)

    started = 2 * cycles * CHARGERS
    count = sum(len(sessions) for sessions in stored.values())
    doubled, unstopped = doubled_and_unstopped(stored)
    refused = sum(station.stats.call_errors for station in stations)
    dropped = sum(station.stats.messages_dropped for station in stations)
    figure(
        f"PostgreSQL restart: {cycles} cycles ({DOWN_S:.0f} s down each), {started} sessions started, "
        f"{count} stored, {max(0, started - count)} lost, {doubled} doubled, {unstopped} left open; "
        f"{refused} calls refused while down, {dropped} messages dropped by chargers"
    )
    for cp_id in ids:
        assert len(stored[cp_id]) == 2 * cycles, stored[cp_id]
        assert all(s["stoppedAt"] for s in stored[cp_id]), stored[cp_id]
        assert sorted(s["energyWh"] for s in stored[cp_id]) == sorted(expected[cp_id])
    assert doubled == 0
    assert dropped == 0

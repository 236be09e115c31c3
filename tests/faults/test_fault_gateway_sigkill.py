"""SIGKILL the gateway in the middle of transactions, start it again, repeat; count every session once.

The gateway runs as a real process (``chargeops gateway``) on a SQLite file, then on a PostgreSQL
database; simulated chargers keep charging through each crash, queue their transaction messages while
the gateway is gone, and redeliver them on reconnect (OCPP 1.6 §3.7). Afterwards the store must hold
each session once, stopped, with the energy the charger measured.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import PASSWORD, Control
from tests.e2e.test_gateway_crash_recovery import GatewayProcess
from tests.faults.conftest import fault_cycles

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120 + 60 * fault_cycles())]

CHARGERS = 4


def stations_for(gateway: GatewayProcess, ids: list[str], **config: Any) -> list[Station]:
    """Simulated chargers for ``gateway`` that reconnect quickly; ``config`` sets other StationConfig fields."""
    return [
        Station(
            StationConfig(
                cp_id,
                gateway.ocpp_url,
                password=PASSWORD,
                reconnect_initial_s=0.1,
                reconnect_max_s=0.5,
                response_timeout_s=3,
                **config,
            ),
            clock=SystemClock(),
        )
        for cp_id in ids
    ]


async def close_stations(stations: list[Station], tasks: list[asyncio.Task[Any]]) -> None:
    """Close the simulated chargers and end their tasks."""
    for station in stations:
        await station.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def stored_sessions(control: Control, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The sessions the gateway stored, by charge point id."""
    stored: dict[str, list[dict[str, Any]]] = {}
    for cp_id in ids:
        status, page = await control.request("GET", f"/v1/sessions?chargePointId={cp_id}&limit=1000")
        assert status == 200, page
        stored[cp_id] = page["items"]
    return stored


def doubled_and_unstopped(stored: dict[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """How many stored sessions repeat a transaction id of their charger, and how many were never stopped."""
    seen = Counter((cp_id, s["transactionId"]) for cp_id, sessions in stored.items() for s in sessions)
    doubled = sum(times - 1 for times in seen.values())
    unstopped = sum(1 for sessions in stored.values() for s in sessions if not s["stoppedAt"])
    return doubled, unstopped


async def test_sessions_survive_repeated_sigkill_exactly_once(
    gateway_process: GatewayProcess, figure: Callable[[str], None], database_url: str
) -> None:
    cycles = fault_cycles()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {gateway_process.token}"}) as http:
        control = Control(http, gateway_process.control_url)
        ids = [f"CRASH-{n}" for n in range(CHARGERS)]
        for cp_id in ids:
            await control.put_desired(cp_id, password=PASSWORD, authorization="Required", authorizedIdTags=["T"])
        stations = stations_for(gateway_process, ids)
        tasks = [asyncio.create_task(station.run()) for station in stations]
        # What each charger measured, per transaction id it was given (or its local one while offline).
        expected: dict[str, list[int]] = {cp_id: [] for cp_id in ids}
        try:
            await asyncio.gather(*(station.wait_online() for station in stations))
            for _ in range(cycles):
                await asyncio.gather(*(station.start_session("T") for station in stations))
                await asyncio.sleep(0.2)
                gateway_process.kill()  # with StartTransactions and MeterValues in flight
                await gateway_process.wait()
                for station in stations:  # stopped while the gateway is down: queued, delivered later
                    meter_start = station.state.connectors[1].session.meter_start_wh  # type: ignore[union-attr]
                    await station.stop_session(1)
                    expected[station.config.charge_point_id].append(
                        station.state.connectors[1].register.energy_wh - meter_start
                    )
                await gateway_process.start()
                await asyncio.gather(*(station.wait_online(timeout_s=30) for station in stations))
                await asyncio.gather(*(station.wait_drained(timeout_s=30) for station in stations))
        finally:
            await close_stations(stations, tasks)
        stored = await stored_sessions(control, ids)

    started = cycles * CHARGERS
    count = sum(len(sessions) for sessions in stored.values())
    doubled, unstopped = doubled_and_unstopped(stored)
    energy_wrong = sum(
        1
        for cp_id, sessions in stored.items()
        for got, want in zip([s["energyWh"] for s in sessions], expected[cp_id], strict=False)
        if got != want
    )
    backend = database_url.split("+", 1)[0]
    figure(
        f"gateway SIGKILL on {backend}: {cycles} cycles, {started} sessions started, {count} stored, "
        f"{max(0, started - count)} lost, {doubled} doubled, {unstopped} left open, {energy_wrong} with wrong energy"
    )
    for cp_id in ids:
        assert len(stored[cp_id]) == cycles, f"{cp_id}: {len(stored[cp_id])} sessions stored, {cycles} charged"
        assert all(s["stoppedAt"] for s in stored[cp_id]), stored[cp_id]
        assert [s["energyWh"] for s in stored[cp_id]] == expected[cp_id]
    assert doubled == 0

"""SIGKILL the gateway in the middle of transactions, restart it, and count: every session exactly once.

The gateway runs as a real process (``chargeops gateway``) on a SQLite file, then on a PostgreSQL
database; simulated chargers keep charging through each crash, queue their transaction messages while
the gateway is gone, and redeliver them on reconnect (OCPP 1.6 §3.7). Afterwards the store must hold
each session once, stopped, with the energy the charger measured.
"""

import asyncio
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import PASSWORD, Control
from tests.e2e.test_gateway_convergence import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CHARGERS = 4
CRASHES = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GatewayProcess:
    """``chargeops gateway`` as a child process that can be killed and started again on the same ports."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.ocpp_port = free_port()
        self.control_port = free_port()
        self.token = secrets.token_urlsafe(24)
        self.process: asyncio.subprocess.Process | None = None

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "chargeops"),
            "gateway",
            "--listen",
            f"127.0.0.1:{self.ocpp_port}",
            "--control-listen",
            f"127.0.0.1:{self.control_port}",
            "--database-url",
            self.database_url,
            "--response-timeout",
            "5",
            "--log-level",
            "WARNING",
            env={**os.environ, "CHARGEOPS_GATEWAY_TOKEN": self.token},
        )
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                try:
                    async with http.get(f"{self.control_url}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(ready, timeout_s=30)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> None:
        assert self.process is not None
        await self.process.wait()


@pytest.fixture
async def gateway_process(database_url: str) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(database_url)
    await process.start()
    yield process
    if process.process is not None and process.process.returncode is None:
        process.process.terminate()
        await process.wait()


async def test_sessions_survive_repeated_sigkill_exactly_once(gateway_process: GatewayProcess) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {gateway_process.token}"}) as http:
        control = Control(http, gateway_process.control_url)
        ids = [f"CRASH-{n}" for n in range(CHARGERS)]
        for cp_id in ids:
            await control.put_desired(cp_id, password=PASSWORD, authorization="Required", authorizedIdTags=["T"])
        stations = [
            Station(
                StationConfig(
                    cp_id,
                    f"ws://127.0.0.1:{gateway_process.ocpp_port}/ocpp",
                    password=PASSWORD,
                    reconnect_initial_s=0.1,
                    reconnect_max_s=0.5,
                    response_timeout_s=3,
                ),
                clock=SystemClock(),
            )
            for cp_id in ids
        ]
        tasks = [asyncio.create_task(station.run()) for station in stations]
        expected: dict[str, list[int]] = {cp_id: [] for cp_id in ids}
        try:
            await asyncio.gather(*(station.wait_online() for station in stations))
            for _ in range(CRASHES):
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
            for station in stations:
                await station.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        for cp_id in ids:
            status, page = await control.request("GET", f"/v1/sessions?chargePointId={cp_id}&limit=1000")
            assert status == 200
            sessions: list[dict[str, Any]] = page["items"]
            assert len(sessions) == CRASHES, f"{cp_id}: {len(sessions)} sessions stored, {CRASHES} charged"
            assert all(s["stoppedAt"] for s in sessions), sessions
            assert [s["energyWh"] for s in sessions] == expected[cp_id]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_charger_that_does_not_return_after_a_crash_is_not_reported_connected(
    gateway_process: GatewayProcess,
) -> None:
    # On SQLite the gateway is the store's only process: after a SIGKILL left "connected" in the store, a
    # charger that stays away must read as disconnected. (Replicas sharing PostgreSQL need leases: #8.)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {gateway_process.token}"}) as http:
        control = Control(http, gateway_process.control_url)
        await control.put_desired("CRASH-AWAY", password=PASSWORD)
        station = Station(
            StationConfig("CRASH-AWAY", f"ws://127.0.0.1:{gateway_process.ocpp_port}/ocpp", password=PASSWORD),
            clock=SystemClock(),
        )
        task = asyncio.create_task(station.run())
        try:
            await station.wait_online()
            assert (await control.observed("CRASH-AWAY"))["connected"] is True
            gateway_process.kill()
            await gateway_process.wait()
        finally:
            await station.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await gateway_process.start()
        observed = await control.observed("CRASH-AWAY")
    assert observed["connected"] is False
    assert observed["lastSeen"] is not None

"""The gateway as a real process (``chargeops gateway``) that a test can SIGKILL and start again.

``GatewayProcess`` is shared with the operator's fault tests and ``tests/faults`` (where the repeated
SIGKILL in the middle of transactions is counted); here: what a crash leaves in the observed state.
"""

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import IO

import aiohttp
import pytest

from chargeops.simulator.clock import SystemClock
from chargeops.simulator.station import Station
from chargeops.simulator.station_config import StationConfig
from tests.e2e.harness import PASSWORD, Control
from tests.e2e.test_gateway_convergence import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GatewayProcess:
    """``chargeops gateway`` as a child process that can be killed and started again on the same ports;
    ``extra_args`` are more of its flags (a replica id, say); its log goes to ``log_path`` when given."""

    def __init__(
        self,
        database_url: str,
        *,
        token: str | None = None,
        extra_args: Sequence[str] = (),
        log_level: str = "WARNING",
        log_path: Path | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_level = log_level
        self.log_path = log_path
        self.ocpp_port = free_port()
        self.control_port = free_port()
        self.token = token or secrets.token_urlsafe(24)
        self.extra_args = tuple(extra_args)
        self.process: asyncio.subprocess.Process | None = None

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    async def start(self) -> None:
        """Start the process and wait until it is ready."""
        await self.launch()
        await self.wait_ready()

    async def launch(self) -> None:
        """Start the process, not waiting for it."""
        with contextlib.ExitStack() as files:
            log = files.enter_context(self.log_path.open("a")) if self.log_path else None
            self.process = await self._spawn(log)

    async def _spawn(self, log: IO[str] | None) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "chargeops"),
            "gateway",
            "--listen",
            f"127.0.0.1:{self.ocpp_port}",
            "--control-listen",
            f"127.0.0.1:{self.control_port}",
            "--database-url",
            self.database_url,
            *self.extra_args,
            "--response-timeout",
            "5",
            "--log-level",
            self.log_level,
            env={**os.environ, "CHARGEOPS_GATEWAY_TOKEN": self.token},
            stderr=log,
        )

    async def wait_ready(self, timeout_s: float = 30) -> None:
        """Until ``/readyz`` answers 200."""
        async with aiohttp.ClientSession() as http:

            async def ready() -> bool:
                try:
                    async with http.get(f"{self.control_url}/readyz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            await eventually(ready, timeout_s=timeout_s)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> None:
        assert self.process is not None
        await self.process.wait()

    async def stop(self) -> None:
        """Terminate the process if it runs, and wait for it."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


@pytest.fixture
async def gateway_process(database_url: str) -> AsyncIterator[GatewayProcess]:
    process = GatewayProcess(database_url)
    await process.start()
    yield process
    await process.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_charger_that_does_not_return_after_a_crash_is_not_reported_connected(
    gateway_process: GatewayProcess,
) -> None:
    # On SQLite the gateway is the store's only process: after a SIGKILL left "connected" in the store, a
    # charger that stays away must read as disconnected. (Replicas sharing PostgreSQL: test_gateway_replicas.)
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

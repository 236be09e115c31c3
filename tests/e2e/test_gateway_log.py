"""The gateway's log as an operator reads it: each refusal and each connection one line that names the
charger, and none of the websocket library's lines that name no charger."""

import base64
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tests.e2e.harness import PASSWORD, Control
from tests.e2e.test_gateway_convergence import eventually
from tests.e2e.test_gateway_crash_recovery import GatewayProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def open_as(gateway: GatewayProcess, cp_id: str, password: str) -> None:
    """Connect as ``cp_id`` and close again; an ``InvalidStatus`` when refused."""
    credentials = base64.b64encode(f"{cp_id}:{password}".encode()).decode()
    async with connect(
        f"{gateway.ocpp_url}/{cp_id}",
        subprotocols=[Subprotocol("ocpp1.6")],
        additional_headers={"Authorization": f"Basic {credentials}"},
    ):
        pass


async def test_each_refusal_and_connection_is_one_line_naming_the_charger(tmp_path: Path) -> None:
    log_path = tmp_path / "gateway.log"
    gateway = GatewayProcess(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}", log_level="INFO", log_path=log_path)
    await gateway.start()
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {gateway.token}"}) as http:
            await Control(http, gateway.control_url).put_desired("LOG-1", password=PASSWORD)
        for cp_id, password in (("LOG-UNKNOWN", PASSWORD), ("LOG-1", "not-the-password-at-all")):
            with pytest.raises(InvalidStatus) as refused:
                await open_as(gateway, cp_id, password)
            assert refused.value.response.status_code == 401
        await open_as(gateway, "LOG-1", PASSWORD)

        async def disconnect_logged() -> bool:
            return "[LOG-1] Disconnected" in log_path.read_text()

        await eventually(disconnect_logged, timeout_s=10)
    finally:
        await gateway.stop()

    log = log_path.read_text()
    assert "Connection refused (UnknownCharger): Charge point LOG-UNKNOWN is not known to this gateway." in log
    assert "Connection refused (WrongPassword): Charge point LOG-1: wrong password." in log
    assert "[LOG-1] Connected (OCPP 1.6)." in log
    # websockets' own INFO lines ("connection rejected (401 Unauthorized)", "connection open") say the
    # same without naming the charger: one each per connection, at 50,000 chargers only noise and CPU.
    assert " websockets." not in log

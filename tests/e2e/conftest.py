"""A real gateway per test, in this process, on loopback ports: websockets for chargers, HTTP for control.

``gateway`` runs on a fresh SQLite file; ``control`` is an HTTP client for its control API with the
token set; ``raw_charger`` opens a websocket the way a charger does, for frame-level tests.
"""

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect

from chargeops.ocpp_gateway.app import Gateway
from chargeops.ocpp_gateway.settings import GatewaySettings
from tests.e2e.harness import PASSWORD, Control, RawCharger, RunningGateway, basic_auth


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[RunningGateway]:
    token = secrets.token_urlsafe(24)
    settings = GatewaySettings(
        ocpp_host="127.0.0.1",
        ocpp_port=0,
        control_host="127.0.0.1",
        control_port=0,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        api_token=token,
        response_timeout_s=5.0,
        boot_wait_s=0.5,
    )
    running = await Gateway.open(settings)
    await running.start()
    yield RunningGateway(running, token)
    await running.stop()


@pytest.fixture
async def control(gateway: RunningGateway) -> AsyncIterator[Control]:
    headers = {"Authorization": f"Bearer {gateway.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        yield Control(http, gateway.control_url)


@pytest.fixture
async def raw_charger(gateway: RunningGateway) -> AsyncIterator[RawCharger]:
    opened: list[ClientConnection] = []

    async def open_connection(
        cp_id: str, *, password: str | None = PASSWORD, subprotocols: tuple[str, ...] = ("ocpp1.6",)
    ) -> ClientConnection:
        headers = basic_auth(cp_id, password) if password is not None else {}
        connection = await connect(
            f"{gateway.ocpp_url}/{cp_id}",
            subprotocols=list(subprotocols),  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=5,
        )
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        await connection.close()

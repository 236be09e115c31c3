"""What e2e tests use to reach a gateway: its addresses, its control API, a charger's credentials."""

import asyncio
import base64
import json
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection

from chargeops.ocpp_gateway.app import Gateway

PASSWORD = "correct-horse-battery-staple"


class RunningGateway:
    """A started gateway and how to reach it."""

    def __init__(self, gateway: Gateway, token: str) -> None:
        self.gateway = gateway
        self.token = token

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.gateway.ocpp_port}/ocpp"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.control_port}"


class Control:
    """The control API, as the operator uses it."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, self.base + path, json=body) as response:
            text = await response.text()
            data = (
                await response.json(content_type=None) if text and response.content_type == "application/json" else text
            )
            return response.status, data

    async def put_desired(self, cp_id: str, **desired: Any) -> dict[str, Any]:
        status, body = await self.request("PUT", f"/v1/chargers/{cp_id}/desired", desired)
        assert status == 200, body
        return dict(body)

    async def observed(self, cp_id: str) -> dict[str, Any]:
        status, body = await self.request("GET", f"/v1/chargers/{cp_id}/observed")
        assert status == 200, body
        return dict(body)


def basic_auth(cp_id: str, password: str) -> dict[str, str]:
    """The Authorization header a charger sends (OCPP security profile 1)."""
    return {"Authorization": "Basic " + base64.b64encode(f"{cp_id}:{password}".encode()).decode()}


RawCharger = Callable[..., Awaitable[ClientConnection]]


async def recv_reply(connection: ClientConnection) -> list[Any]:
    """The next reply to one of our calls. Calls the gateway makes meanwhile (it converges every charger
    that connects) get a NotImplemented CallError, as a charger without that feature would answer."""
    while True:
        frame = json.loads(await connection.recv())
        if isinstance(frame, list) and frame[:1] == [2]:
            await connection.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))
            continue
        return list(frame)


NODE_CHARGER = Path(__file__).resolve().parents[1] / "independent_charger"


async def run_node_charger(url: str, password: str, *args: str) -> tuple[int, list[dict[str, Any]]]:
    """Run the independent charger (npm ocpp-rpc, strict mode) to its end: exit code and its JSON lines."""
    node = shutil.which("node")
    assert node is not None, "node is required for the independent charger (Debian package nodejs)"
    assert (NODE_CHARGER / "node_modules" / "ocpp-rpc").is_dir(), f"{NODE_CHARGER}/node_modules: run `make node-deps`"
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_CHARGER / "charger.mjs"),
        "--url",
        url,
        "--password",
        password,
        "--linger-ms",
        "300",
        *args,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 30)
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    assert process.returncode is not None
    return process.returncode, lines

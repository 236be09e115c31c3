"""What e2e tests use to reach a gateway: its addresses, its control API, a charger's credentials."""

import asyncio
import base64
import contextlib
import json
import secrets
import shutil
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect

from chargeops.ocpp_gateway.app import Gateway
from chargeops.ocpp_gateway.settings import GatewaySettings
from chargeops.ocpp_gateway.store import Store

PASSWORD = "correct-horse-battery-staple"


class RunningGateway:
    """A started gateway and how to reach it."""

    def __init__(self, gateway: Gateway, token: str) -> None:
        self.gateway = gateway
        self.token = token

    @property
    def read_token(self) -> str | None:
        """The token that may only read (GET)."""
        return self.gateway.settings.api_read_token

    @property
    def ocpp_url(self) -> str:
        scheme = "wss" if self.gateway.settings.tls else "ws"
        return f"{scheme}://127.0.0.1:{self.gateway.ocpp_port}/ocpp"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.control_port}"


def gateway_settings(database_url: str, **overrides: Any) -> GatewaySettings:
    """Settings of a gateway on loopback at free ports, with short timeouts; ``overrides`` win."""
    settings: dict[str, Any] = {
        "ocpp_host": "127.0.0.1",
        "ocpp_port": 0,
        "control_host": "127.0.0.1",
        "control_port": 0,
        "database_url": database_url,
        "api_token": secrets.token_urlsafe(24),
        "api_read_token": secrets.token_urlsafe(24),
        "response_timeout_s": 5.0,
        "boot_wait_s": 0.5,
        # The gateway shares the test's event loop, which a busy CI machine may hold up for half a second:
        # a test of something else must not be refused as overloaded. Admission has its own tests.
        "overload_lag_s": None,
    }
    return GatewaySettings(**{**settings, **overrides})


@contextlib.asynccontextmanager
async def running_gateway(settings: GatewaySettings) -> AsyncIterator[RunningGateway]:
    """A gateway started with ``settings`` and stopped afterwards."""
    running = await Gateway.open(settings)
    await running.start()
    try:
        yield RunningGateway(running, settings.api_token)
    finally:
        await running.stop()


@contextlib.asynccontextmanager
async def gateway_on(store: Store, database_url: str, **overrides: Any) -> AsyncIterator[RunningGateway]:
    """A gateway started on ``store`` (opened by the test with its own engine options), stopped after."""
    gateway = Gateway(gateway_settings(database_url, **overrides), store)
    await gateway.start()
    try:
        yield RunningGateway(gateway, gateway.settings.api_token)
    finally:
        await gateway.stop()


@contextlib.contextmanager
def gateway_in_thread(settings: GatewaySettings) -> Iterator[RunningGateway]:
    """A gateway serving from its own thread and event loop, for clients that block.

    schemathesis calls the API with ``requests``; from the test's own event loop that call would wait
    for a server that can never answer, because the same loop runs both.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="gateway", daemon=True)
    thread.start()

    async def open_gateway() -> Gateway:
        gateway = await Gateway.open(settings)
        await gateway.start()
        return gateway

    try:
        gateway = asyncio.run_coroutine_threadsafe(open_gateway(), loop).result(timeout=30)
        try:
            yield RunningGateway(gateway, settings.api_token)
        finally:
            asyncio.run_coroutine_threadsafe(gateway.stop(), loop).result(timeout=30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


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


@contextlib.asynccontextmanager
async def control_client(gateway: RunningGateway) -> AsyncIterator[Control]:
    """A client of ``gateway``'s control API with its token."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {gateway.token}"}) as http:
        yield Control(http, gateway.control_url)


def basic_auth(cp_id: str, password: str) -> dict[str, str]:
    """The Authorization header a charger sends (OCPP security profile 1)."""
    return {"Authorization": "Basic " + base64.b64encode(f"{cp_id}:{password}".encode()).decode()}


RawCharger = Callable[..., Awaitable[ClientConnection]]


async def connect_charger(
    gateway: RunningGateway,
    cp_id: str,
    *,
    password: str | None = PASSWORD,
    subprotocols: tuple[str, ...] = ("ocpp1.6",),
    ssl_context: ssl.SSLContext | None = None,
) -> ClientConnection:
    """Open a websocket to ``gateway`` as charger ``cp_id`` does: its subprotocols, Basic auth unless None."""
    headers = basic_auth(cp_id, password) if password is not None else {}
    return await connect(
        f"{gateway.ocpp_url}/{cp_id}",
        subprotocols=list(subprotocols),  # type: ignore[arg-type]
        additional_headers=headers,
        ssl=ssl_context,
        open_timeout=5,
    )


async def recv_reply(connection: ClientConnection) -> list[Any]:
    """The next reply to one of our calls. Calls the gateway makes meanwhile (it converges every charger
    that connects) get a NotImplemented CallError, as a charger without that feature would answer."""
    while True:
        frame = json.loads(await connection.recv())
        if isinstance(frame, list) and frame[:1] == [2]:
            await connection.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))
            continue
        return list(frame)


class Frames:
    """A charger speaking OCPP-J (1.6 or 2.0.1) in raw frames, with message ids it chooses."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.count = 0

    async def call(self, action: str, payload: dict[str, Any], *, message_id: str | None = None) -> Any:
        self.count += 1
        message_id = message_id or f"m{self.count}"
        await self.connection.send(json.dumps([2, message_id, action, payload]))
        reply = await recv_reply(self.connection)
        assert reply[1] == message_id
        assert reply[0] == 3, reply
        return reply[2]


def stamp(minutes_from_now: float = 0) -> str:
    """A timestamp near the gateway's clock, so no message looks delivered late."""
    return (datetime.now(UTC) + timedelta(minutes=minutes_from_now)).isoformat().replace("+00:00", "Z")


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

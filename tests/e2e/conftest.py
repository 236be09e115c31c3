"""A real gateway per test, in this process, on loopback ports: websockets for chargers, HTTP for control.

``database_url`` is an empty database on each backend in turn: a fresh SQLite file (the default), then
a new database on the session's real PostgreSQL (what replicas share), so every test that uses
``gateway`` runs on both; ``module_database_url`` is the same, shared by one module's tests.
``control`` is an HTTP client for the gateway's control API with the token set; ``raw_charger`` opens a
websocket the way a charger does, for frame-level tests.
"""

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from chargeops.devcluster import postgres
from chargeops.ocpp_gateway.store import Store
from tests.e2e.harness import (
    Control,
    RawCharger,
    RunningGateway,
    connect_charger,
    control_client,
    gateway_settings,
    running_gateway,
)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
async def postgres_template(postgres_server: postgres.PostgresServer) -> str:
    """A database on the session's PostgreSQL with the store's migrations applied, to copy per test.

    Copying it (``CREATE DATABASE … TEMPLATE``) takes a few tens of milliseconds; running the Alembic
    migrations into every test's database took about 0.2 s each.
    """
    url = postgres_server.create_database()
    async with await Store.open(url):
        pass
    return url.rsplit("/", 1)[1]


@contextlib.contextmanager
def empty_store(request: pytest.FixtureRequest, backend: str, folder: Path) -> Iterator[str]:
    """The URL of an empty store on ``backend``: a SQLite file in ``folder``, or a new (migrated)
    database on the session's PostgreSQL, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'gateway.db'}"
        return
    server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database(template=request.getfixturevalue("postgres_template"))
    try:
        yield url
    finally:
        server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store for one test, on each backend in turn."""
    with empty_store(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty store shared by the tests of one module, on each backend in turn."""
    with empty_store(request, request.param, tmp_path_factory.mktemp("store")) as url:
        yield url


@pytest.fixture
async def gateway(database_url: str) -> AsyncIterator[RunningGateway]:
    async with running_gateway(gateway_settings(database_url)) as running:
        yield running


@pytest.fixture
async def control(gateway: RunningGateway) -> AsyncIterator[Control]:
    async with control_client(gateway) as client:
        yield client


@pytest.fixture
async def raw_charger(gateway: RunningGateway) -> AsyncIterator[RawCharger]:
    opened: list[ClientConnection] = []

    async def open_connection(cp_id: str, **options: Any) -> ClientConnection:
        connection = await connect_charger(gateway, cp_id, **options)
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        await connection.close()

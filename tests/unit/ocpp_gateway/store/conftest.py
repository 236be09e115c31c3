"""A fresh ``Store`` per test, on SQLite and on a real PostgreSQL (``postgres_database``).

Every store test runs on both backends: SQLite is the gateway's default and PostgreSQL what replicas
share, and the two differ exactly where the store is subtle (locking, ON CONFLICT, time types).
"""

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Table, select

from chargeops.ocpp_gateway import passwords
from chargeops.ocpp_gateway.store import Store, database
from tests.unit.ocpp_gateway.store.support import Peek

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """A migrated store on ``store_url``, closed after the test."""
    async with await Store.open(store_url) as opened:
        yield opened


_charger_numbers = itertools.count(1)


@pytest.fixture
def new_cp_id() -> Callable[[], str]:
    """Makes charge point ids never used before in this session (hypothesis examples share a store)."""
    return lambda: f"CP-{next(_charger_numbers)}"


@pytest.fixture
async def peek(store: Store, store_url: str) -> AsyncIterator[Peek]:
    """Reads a table the store writes but has no method to read back (raw messages, orphans)."""
    db = database.Database.connect(store_url)

    def select_all(_db: database.Database, conn: Connection, table: Table) -> list[dict[str, Any]]:
        result = conn.execute(select(table).order_by(*table.primary_key.columns))
        return [dict(row) for row in result.mappings()]

    async def rows(table: Table) -> list[dict[str, Any]]:
        return await db.read(select_all, table)

    yield rows
    await db.dispose()


@pytest.fixture
def scrypts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts scrypt runs from now on (hashes and checks both derive a key)."""
    runs: list[int] = []
    real = passwords._derive

    def counting(password: str, **params: Any) -> bytes:
        runs.append(1)
        return real(password, **params)

    monkeypatch.setattr(passwords, "_derive", counting)
    return runs

"""Writes that arrive together commit together, and a write that fails still fails alone.

On PostgreSQL a batch has no savepoints: a failed statement aborts the whole transaction, so the other
writes of the batch are run again in a new one. These tests look at what each caller hears and what the
table holds afterwards, on both backends.
"""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Connection, text

from chargeops.ocpp_gateway.store import database, errors
from chargeops.ocpp_gateway.store.listener import asyncpg_dsn
from tests.row_locks import until_a_session_waits_on_a_lock

WRITES = 12
FAILING = 5


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[database.Database]:
    opened = database.Database.connect(store_url)
    await opened.write(_create_table)
    try:
        yield opened
    finally:
        await opened.dispose()


def _create_table(_db: database.Database, conn: Connection) -> None:
    conn.execute(text("CREATE TABLE written (n INTEGER PRIMARY KEY)"))


def _insert(_db: database.Database, conn: Connection, n: int, *, then: str | None = None) -> int:
    conn.execute(text("INSERT INTO written (n) VALUES (:n)"), {"n": n})
    if then == "raise":
        raise ValueError(f"write {n} refused after its insert")
    if then == "bad statement":
        conn.execute(text("SELECT no_such_column FROM written"))
    return n


def _numbers(_db: database.Database, conn: Connection) -> list[int]:
    return list(conn.execute(text("SELECT n FROM written ORDER BY n")).scalars())


def _transaction_id(_db: database.Database, conn: Connection) -> int:
    return int(conn.execute(text("SELECT txid_current()")).scalar_one())


async def _concurrently(db: database.Database, failure: str) -> list[int | BaseException]:
    writes = (db.write(_insert, n, then=failure if n == FAILING else None) for n in range(WRITES))
    return await asyncio.gather(*writes, return_exceptions=True)


async def test_a_write_that_raises_in_a_batch_fails_alone(db: database.Database) -> None:
    outcomes = await _concurrently(db, "raise")

    assert isinstance(outcomes[FAILING], ValueError)
    assert [n for n in outcomes if not isinstance(n, BaseException)] == [n for n in range(WRITES) if n != FAILING]
    assert await db.read(_numbers) == [n for n in range(WRITES) if n != FAILING]


async def test_a_statement_that_fails_in_a_batch_fails_alone(db: database.Database) -> None:
    # On PostgreSQL the failed statement aborted the batch's transaction: the others ran again.
    outcomes = await _concurrently(db, "bad statement")

    assert isinstance(outcomes[FAILING], errors.StoreUnavailableError)
    assert await db.read(_numbers) == [n for n in range(WRITES) if n != FAILING]


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_writes_that_arrive_together_share_a_transaction_on_postgresql(db: database.Database) -> None:
    transaction_ids = await asyncio.gather(*(db.write(_transaction_id) for _ in range(WRITES)))

    assert len(set(transaction_ids)) < WRITES


def _lock_both_then_insert(_db: database.Database, conn: Connection, n: int) -> int:
    conn.execute(text("SELECT k FROM locks WHERE k = 1 FOR UPDATE"))
    conn.execute(text("SELECT k FROM locks WHERE k = 2 FOR UPDATE"))
    return _insert(_db, conn, n)


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_batch_postgresql_aborts_to_break_a_deadlock_runs_again_and_commits(
    db: database.Database, store_url: str
) -> None:
    # Found at 50,000 chargers: such writes failed as if the store were down (StatusNotifications were
    # answered InternalError), though none of them was at fault.
    await db.write(lambda _db, conn: conn.execute(text("CREATE TABLE locks (k INTEGER PRIMARY KEY)")))
    await db.write(lambda _db, conn: conn.execute(text("INSERT INTO locks VALUES (1), (2)")))
    other = await asyncpg.connect(asyncpg_dsn(store_url))
    try:
        # The other session waits longer before it looks for a deadlock, so PostgreSQL aborts the batch.
        await other.execute("SET deadlock_timeout = '30s'")
        transaction = other.transaction()
        await transaction.start()
        await other.execute("SELECT k FROM locks WHERE k = 2 FOR UPDATE")
        write = asyncio.create_task(db.write(_lock_both_then_insert, 7))
        await until_a_session_waits_on_a_lock(other)
        # Holding 2 and now waiting for 1, which the batch holds while it waits for 2: a cycle.
        await asyncio.wait_for(other.execute("SELECT k FROM locks WHERE k = 1 FOR UPDATE"), 20)
        await transaction.rollback()

        assert await asyncio.wait_for(write, 20) == 7
    finally:
        await other.close()
    assert await db.read(_numbers) == [7]


def _backend_pid(_db: database.Database, conn: Connection) -> int:
    conn.execute(text("SELECT pg_sleep(0.05)"))
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_postgresql_connections_are_kept_open_between_bursts(db: database.Database) -> None:
    # Found at 50,000 chargers: with SQLAlchemy's default pool (5 kept, 10 more closed on return) no
    # PostgreSQL backend lived longer than 45 s under steady load; each new one costs a backend start.
    async def burst() -> set[int]:
        return set(await asyncio.gather(*(db.read(_backend_pid) for _ in range(30))))

    first = await burst()
    second = await burst()

    assert len(first) > 5  # the burst did use more connections than SQLAlchemy's default keeps
    assert second <= first  # and none of them was closed and opened anew

"""Writes that arrive together commit together, and a write that fails still fails alone.

On PostgreSQL a batch has no savepoints: a failed statement aborts the whole transaction, so the other
writes of the batch are run again in a new one. These tests look at what each caller hears and what the
table holds afterwards, on both backends.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection, text

from chargeops.ocpp_gateway.store import database, errors

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

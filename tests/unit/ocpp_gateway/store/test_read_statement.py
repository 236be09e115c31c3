"""``Database.read_statement``: one SELECT, on PostgreSQL without BEGIN and COMMIT around it.

PostgreSQL reports after each statement whether the connection is inside a transaction block (the
status of its ReadyForQuery message, which asyncpg keeps): after a statement sent alone it is not.
"""

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Connection, text

from chargeops.ocpp_gateway.store import database


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[database.Database]:
    # One connection, so that every call below meets the connection the one before it returned.
    opened = database.Database.connect(store_url, engine_options={"pool_size": 1})
    try:
        yield opened
    finally:
        await opened.dispose()


def _alone(_db: database.Database, conn: Connection) -> bool:
    conn.execute(text("SELECT 1")).scalar_one()
    driver = conn.connection.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    return not driver.is_in_transaction()


def _create_table(_db: database.Database, conn: Connection) -> None:
    conn.execute(text("CREATE TABLE written (n INTEGER PRIMARY KEY)"))


def _insert_twice(_db: database.Database, conn: Connection) -> None:
    conn.execute(text("INSERT INTO written (n) VALUES (1)"))
    conn.execute(text("INSERT INTO written (n) VALUES (1)"))


def _count(_db: database.Database, conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM written")).scalar_one())


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_single_select_is_sent_without_a_transaction_around_it(db: database.Database) -> None:
    assert await db.read_statement(_alone) is True
    # The connection goes back to the pool as it came: the next read and write are transactions again.
    assert await db.read(_alone) is False
    await db.write(_create_table)
    with pytest.raises(Exception, match="duplicate key"):
        await db.write(_insert_twice)
    assert await db.read_statement(_count) == 0  # the failed write's first insert was rolled back


async def test_read_statement_reads_on_every_database(db: database.Database) -> None:
    await db.write(_create_table)
    assert await db.read_statement(_count) == 0

"""A charger's observed-state row held locked by another PostgreSQL session, for tests of a slow store.

The store's write of that row then waits (holding a pooled connection), or fails after the
``lock_timeout`` the store's connections were given; its reads pass, as reads take no row locks.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg

from chargeops.ocpp_gateway.store import Store
from chargeops.ocpp_gateway.store.listener import asyncpg_dsn

WAITING_ON_A_LOCK = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"


async def until_a_session_waits_on_a_lock(connection: asyncpg.Connection, timeout_s: float = 10.0) -> None:
    """Return once some session waits for a lock (PostgreSQL has no event to await instead)."""
    async with asyncio.timeout(timeout_s):
        while True:
            if await connection.fetchval(WAITING_ON_A_LOCK):
                return
            await asyncio.sleep(0.05)


class RowLock:
    """The other session holding the lock."""

    def __init__(self, connection: asyncpg.Connection, transaction: asyncpg.transaction.Transaction) -> None:
        self._connection = connection
        self._transaction = transaction
        self._released = False

    async def until_waited_on(self, timeout_s: float = 10.0) -> None:
        """Return once some session waits for a lock."""
        await until_a_session_waits_on_a_lock(self._connection, timeout_s)

    async def release(self) -> None:
        """End the locking transaction: the waiting write goes on."""
        if not self._released:
            self._released = True
            await self._transaction.rollback()


@contextlib.asynccontextmanager
async def observed_row_locked(database_url: str, cp_id: str) -> AsyncIterator[RowLock]:
    """Lock ``cp_id``'s row of ``observed_states`` (it must exist) until released or the block ends."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("SELECT 1 FROM observed_states WHERE charge_point_id = $1 FOR UPDATE", cp_id)
        yield RowLock(connection, transaction)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def write_waiting_on_a_row_lock(store: Store, database_url: str, cp_id: str = "LOCKED") -> AsyncIterator[RowLock]:
    """A write of ``cp_id``'s observed state waiting on its locked row, holding one of ``store``'s pooled
    connections (with a pool of one, the pool), until the lock is released or the block ends; the write is
    awaited on leaving."""
    await store.update_observed(cp_id, {"connected": False})
    async with observed_row_locked(database_url, cp_id) as lock:
        write = asyncio.create_task(store.update_observed(cp_id, {"connected": True}))
        await lock.until_waited_on()
        try:
            yield lock
        finally:
            await lock.release()
            await write

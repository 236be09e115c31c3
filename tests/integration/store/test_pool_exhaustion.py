"""A PostgreSQL store whose connections are all busy past the pool's timeout: an outage, nothing lost.

Found by the 50,000-charger benchmark: under load SQLAlchemy's pool raised its own ``TimeoutError``,
which the store did not translate, so the gateway answered transaction messages with CALLERROR
``InternalError`` (a charger drops such a message after a few attempts) instead of leaving them
unanswered for redelivery, as it does for every other outage (``StoreUnavailableError``).
"""

import asyncio

import asyncpg
import pytest

from chargeops.ocpp_gateway.store import Store
from chargeops.ocpp_gateway.store.errors import StoreUnavailableError
from tests.unit.ocpp_gateway.store.support import T0

pytestmark = pytest.mark.timeout(60)

# One connection, given up on after half a second.
TIGHT_POOL = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5}


async def _until_waiting_on_a_lock(locker: asyncpg.Connection) -> None:
    # Another session's state can only be polled: PostgreSQL has no event for "now waiting on a lock".
    while True:
        if await locker.fetchval("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"):
            return
        await asyncio.sleep(0.05)


async def test_a_call_finding_no_free_connection_is_an_outage_and_can_be_repeated(postgres_database: str) -> None:
    async with await Store.open(postgres_database, engine_options=TIGHT_POOL) as store:
        await store.update_observed("CP-1", {"connected": True}, now=T0)
        locker = await asyncpg.connect(postgres_database.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            lock = locker.transaction()
            await lock.start()
            await locker.execute("SELECT 1 FROM observed_states WHERE charge_point_id = 'CP-1' FOR UPDATE")
            # This write holds the pool's only connection while it waits for the row.
            blocked = asyncio.create_task(store.update_observed("CP-1", {"connected": False}, now=T0))
            await asyncio.wait_for(_until_waiting_on_a_lock(locker), 10)

            with pytest.raises(StoreUnavailableError, match="No database connection came free in time"):
                await store.start_transaction("CP-2", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=T0)
            await lock.rollback()
        finally:
            await locker.close()

        assert (await blocked).connected is False
        # The refused start stored nothing: its redelivery is a first start, not a duplicate.
        outcome = await store.start_transaction("CP-2", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=T0)
        assert not outcome.duplicate
        assert len((await store.list_sessions(charge_point_id="CP-2")).items) == 1

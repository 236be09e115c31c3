"""A PostgreSQL store whose connections are all busy past the pool's timeout: an outage, nothing lost.

Found by the 50,000-charger benchmark: under load SQLAlchemy's pool raised its own ``TimeoutError``,
which the store did not translate, so the gateway answered transaction messages with CALLERROR
``InternalError`` (a charger drops such a message after a few attempts) instead of leaving them
unanswered for redelivery, as it does for every other outage (``StoreUnavailableError``).
"""

import asyncio

import pytest

from chargeops.ocpp_gateway.store import Store
from chargeops.ocpp_gateway.store.errors import StoreUnavailableError
from tests.row_locks import observed_row_locked
from tests.unit.ocpp_gateway.store.support import T0

pytestmark = pytest.mark.timeout(60)

# One connection, given up on after half a second.
TIGHT_POOL = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5}


async def test_a_call_finding_no_free_connection_is_an_outage_and_can_be_repeated(postgres_database: str) -> None:
    async with await Store.open(postgres_database, engine_options=TIGHT_POOL) as store:
        await store.update_observed("CP-1", {"connected": True}, now=T0)
        async with observed_row_locked(postgres_database, "CP-1") as lock:
            # This write holds the pool's only connection while it waits for the row.
            blocked = asyncio.create_task(store.update_observed("CP-1", {"connected": False}, now=T0))
            await lock.until_waited_on()

            with pytest.raises(StoreUnavailableError, match="No database connection came free in time"):
                await store.start_transaction("CP-2", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=T0)
            await lock.release()

        assert (await blocked).connected is False
        # The refused start stored nothing: its redelivery is a first start, not a duplicate.
        outcome = await store.start_transaction("CP-2", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=T0)
        assert not outcome.duplicate
        assert len((await store.list_sessions(charge_point_id="CP-2")).items) == 1

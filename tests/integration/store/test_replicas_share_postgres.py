"""Several gateway replicas sharing one PostgreSQL: each its own Store (engine and pool), one database.

The unit tests run every store behaviour on PostgreSQL with one engine; these add what only separate
engines show: ids unique across replicas, a retried message reaching two replicas at once, and
replicas that start (and migrate) together.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from chargeops.api.gateway import DesiredState
from chargeops.ocpp_gateway.store import Store, database, migrations

REPLICAS = 4
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def replicas(postgres_database: str) -> AsyncIterator[list[Store]]:
    """``REPLICAS`` stores on one database, opened at the same moment (so migrating concurrently)."""
    stores = await asyncio.gather(*(Store.open(postgres_database) for _ in range(REPLICAS)))
    yield list(stores)
    await asyncio.gather(*(store.close() for store in stores))


async def test_replicas_that_start_together_migrate_once(postgres_database: str, replicas: list[Store]) -> None:
    db = database.Database.connect(postgres_database)
    try:
        assert await migrations.current_revision(db) == migrations.head()
        assert await migrations.autogenerate_diff(db) == []
    finally:
        await db.dispose()


async def test_transaction_ids_are_unique_across_replicas(replicas: list[Store]) -> None:
    outcomes = await asyncio.gather(
        *(
            replicas[n % REPLICAS].start_transaction(
                f"CP-{n}", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=T0 + timedelta(seconds=n)
            )
            for n in range(200)
        )
    )

    assert len({o.transaction_id for o in outcomes}) == 200


async def test_a_start_retried_on_every_replica_at_once_is_one_session(replicas: list[Store]) -> None:
    outcomes = await asyncio.gather(
        *(
            store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=7, timestamp=T0)
            for store in replicas
            for _ in range(5)
        )
    )

    assert len({(o.transaction_id, o.session_id) for o in outcomes}) == 1
    assert sum(not o.duplicate for o in outcomes) == 1


async def test_a_stop_retried_on_every_replica_at_once_closes_once(replicas: list[Store]) -> None:
    started = await replicas[0].start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=7, timestamp=T0)

    outcomes = await asyncio.gather(
        *(
            store.stop_transaction(
                "CP-1",
                started.transaction_id,
                meter_stop_wh=70,
                timestamp=T0 + timedelta(hours=1),
                reason=None,
                id_tag=None,
            )
            for store in replicas
        )
    )

    assert sum(not o.duplicate for o in outcomes) == 1
    assert {o.session.energy_wh for o in outcomes if o.session} == {63}


async def test_events_of_one_transaction_spread_over_replicas_make_one_session(replicas: list[Store]) -> None:
    async def deliver(seq_no: int) -> str:
        outcome = await replicas[seq_no % REPLICAS].record_transaction_event(
            "CP-1",
            event_type="Started" if seq_no == 0 else "Ended" if seq_no == 9 else "Updated",
            transaction_id="tx-1",
            seq_no=seq_no,
            timestamp=T0 + timedelta(minutes=seq_no),
            connector_id=1,
            id_tag="T",
            meter_wh=1_000 + 100 * seq_no,
            offline=False,
            stopped_reason="Local" if seq_no == 9 else None,
            raw={},
        )
        return outcome.session_id

    session_ids = await asyncio.gather(*(deliver(n) for n in reversed(range(10))), *(deliver(n) for n in range(10)))

    (session_id,) = set(session_ids)
    session = await replicas[0].get_session(session_id)
    assert session is not None
    assert (session.meter_start_wh, session.meter_stop_wh, session.energy_wh, session.flags) == (1_000, 1_900, 900, [])


async def test_concurrent_desired_state_puts_from_replicas_never_share_a_version(replicas: list[Store]) -> None:
    results = await asyncio.gather(
        *(replicas[n % REPLICAS].put_desired("CP-1", DesiredState(authorized_id_tags=[f"TAG-{n}"])) for n in range(16))
    )

    assert sorted(r.local_list_version for r in results) == list(range(1, 17))

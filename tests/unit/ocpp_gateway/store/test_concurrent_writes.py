"""Concurrent calls on one store: retries racing each other still make one session; others stay distinct."""

import asyncio
from datetime import timedelta

from chargeops.ocpp_gateway.store import Store
from tests.unit.ocpp_gateway.store.support import T0

CALLS = 20


async def test_concurrent_identical_starts_make_one_session(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(
            store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=100, timestamp=T0)
            for _ in range(CALLS)
        )
    )

    assert len({o.transaction_id for o in outcomes}) == 1
    assert len({o.session_id for o in outcomes}) == 1
    assert sum(not o.duplicate for o in outcomes) == 1
    assert len((await store.list_sessions()).items) == 1


async def test_concurrent_different_starts_get_distinct_transaction_ids(store: Store) -> None:
    outcomes = await asyncio.gather(
        *(
            store.start_transaction(
                f"CP-{n % 4}", connector_id=1, id_tag="T", meter_start_wh=n, timestamp=T0 + timedelta(seconds=n)
            )
            for n in range(CALLS)
        )
    )

    assert len({o.transaction_id for o in outcomes}) == CALLS
    assert not any(o.duplicate for o in outcomes)


async def test_concurrent_identical_stops_close_the_session_once(store: Store) -> None:
    started = await store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=100, timestamp=T0)

    outcomes = await asyncio.gather(
        *(
            store.stop_transaction(
                "CP-1",
                started.transaction_id,
                meter_stop_wh=900,
                timestamp=T0 + timedelta(hours=1),
                reason=None,
                id_tag=None,
            )
            for _ in range(CALLS)
        )
    )

    assert sum(not o.duplicate for o in outcomes) == 1
    assert {o.session.energy_wh for o in outcomes if o.session} == {800}


async def test_concurrent_events_of_one_transaction_make_one_session(store: Store) -> None:
    async def send(seq_no: int) -> str:
        outcome = await store.record_transaction_event(
            "CP-1",
            event_type="Started" if seq_no == 0 else "Updated",
            transaction_id="tx-1",
            seq_no=seq_no % 5,  # each seqNo delivered four times
            timestamp=T0 + timedelta(minutes=seq_no % 5),
            connector_id=1,
            id_tag="T",
            meter_wh=1_000 + 100 * (seq_no % 5),
            offline=False,
            stopped_reason=None,
            raw={},
        )
        return outcome.session_id

    session_ids = await asyncio.gather(*(send(n) for n in range(CALLS)))

    assert len(set(session_ids)) == 1
    assert len(await store.meter_readings(session_ids[0])) == 5

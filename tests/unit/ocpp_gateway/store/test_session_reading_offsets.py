"""Sessions listed with their readings as columns (``readingsFormat=offsets``), the billing pass's listing.

The columns must say exactly what the records of ``withReadings=true`` say: each session the same, and
each reading's offset the whole microseconds from the session's start to its timestamp, on both backends
(each works the offsets out in its own SQL, ``session_json.utc_micros``).
"""

from datetime import timedelta

from chargeops.api.gateway import (
    SessionWithReadingOffsets,
    SessionWithReadingOffsetsPage,
    SessionWithReadings,
    SessionWithReadingsPage,
)
from chargeops.ocpp_gateway.store import Store
from tests.unit.ocpp_gateway.store.support import NOW, T0
from tests.unit.ocpp_gateway.store.test_session_json import charge_16

MICROSECOND = timedelta(microseconds=1)


def as_columns(session: SessionWithReadings) -> SessionWithReadingOffsets:
    """What the offsets listing should hold for a session of the records listing."""
    return SessionWithReadingOffsets(
        **session.model_dump(exclude={"readings"}),
        reading_offsets_us=[(r.timestamp - session.started_at) // MICROSECOND for r in session.readings],
        reading_energies_wh=[r.energy_wh for r in session.readings],
    )


async def test_the_columns_say_what_the_records_say(store: Store) -> None:
    await charge_16(store, "CP-1", "ALICE", minute=0)  # one reading a quarter of a second off the minute
    await charge_16(store, "CP-2", "ALICE", minute=2, stop=False)
    # A start with a fraction of a second: offsets count from it, not from its whole second.
    outcome = await store.start_transaction(
        "CP-3", connector_id=1, id_tag="BOB", meter_start_wh=0, timestamp=T0 + timedelta(seconds=5.75), now=NOW
    )
    await store.add_meter_values(
        "CP-3",
        connector_id=1,
        transaction_id=str(outcome.transaction_id),
        readings=[(T0 + timedelta(days=3, seconds=1.5), 40), (T0 + timedelta(seconds=6), 1)],
        now=NOW,
    )

    records = SessionWithReadingsPage.model_validate_json(await store.list_sessions_with_readings(limit=10))
    columns = SessionWithReadingOffsetsPage.model_validate_json(
        await store.list_sessions_with_readings(limit=10, offsets=True)
    )

    assert columns.items == [as_columns(session) for session in records.items]
    bob = next(s for s in columns.items if s.id_tag == "BOB")
    assert bob.reading_offsets_us == [250_000, 3 * 86_400_000_000 - 4_250_000]
    assert bob.reading_energies_wh == [1, 40]
    assert [len(s.reading_offsets_us) for s in columns.items] == [2, 2, 2]


async def test_pages_of_columns_follow_the_same_cursors(store: Store) -> None:
    for minute in range(5):
        await charge_16(store, "CP-1", "ALICE" if minute % 2 else "BOB", minute=minute)

    first = SessionWithReadingOffsetsPage.model_validate_json(
        await store.list_sessions_with_readings(id_tag=["ALICE", "BOB"], limit=3, offsets=True)
    )
    records = SessionWithReadingsPage.model_validate_json(
        await store.list_sessions_with_readings(id_tag=["ALICE", "BOB"], limit=3)
    )
    rest = SessionWithReadingOffsetsPage.model_validate_json(
        await store.list_sessions_with_readings(id_tag=["ALICE", "BOB"], cursor=first.next_cursor, offsets=True)
    )

    assert first.next_cursor == records.next_cursor
    assert [s.id for s in first.items] == [s.id for s in records.items]
    assert len(rest.items) == 2
    assert rest.next_cursor is None
    assert await store.list_sessions_with_readings(id_tag=[], offsets=True) == '{"items":[],"nextCursor":null}'

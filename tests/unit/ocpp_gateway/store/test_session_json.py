"""Sessions listed with their readings: the store's own JSON is the models' JSON, byte for byte.

``Store.list_sessions_with_readings`` writes its page straight from the rows (``session_json``) instead of
through pydantic; these tests hold it to what ``SessionWithReadingsPage.model_dump_json`` would write for
the same sessions and readings, on both backends, and check its paging and filters.
"""

from datetime import timedelta

import pydantic_core
from hypothesis import given
from hypothesis import strategies as st

from chargeops.api.gateway import SessionFlag, SessionWithReadings, SessionWithReadingsPage
from chargeops.ocpp_gateway.store import Store, session_json
from tests.unit.ocpp_gateway.store.support import NOW, T0


async def model_page(store: Store, **filters: object) -> str:
    """What pydantic writes for the page ``list_sessions`` gives, each session with ``meter_readings``."""
    page = await store.list_sessions(**filters)  # type: ignore[arg-type]
    items = [
        SessionWithReadings(**session.model_dump(), readings=await store.meter_readings(session.id))
        for session in page.items
    ]
    return SessionWithReadingsPage(items=items, next_cursor=page.next_cursor).model_dump_json(by_alias=True)


async def charge_16(store: Store, cp_id: str, id_tag: str, *, minute: int, stop: bool = True) -> str:
    """A 1.6 session with readings at odd instants (a fraction of a second too); stopped unless told."""
    start = T0 + timedelta(minutes=minute)
    outcome = await store.start_transaction(
        cp_id, connector_id=1, id_tag=id_tag, meter_start_wh=1_000, timestamp=start, now=NOW
    )
    readings = [(start + timedelta(minutes=15), 1_900), (start + timedelta(minutes=30, microseconds=250_000), 2_750)]
    await store.add_meter_values(
        cp_id, connector_id=1, transaction_id=str(outcome.transaction_id), readings=readings, now=NOW
    )
    if stop:
        await store.stop_transaction(
            cp_id,
            outcome.transaction_id,
            meter_stop_wh=3_000,
            timestamp=start + timedelta(minutes=40),
            reason="EVDisconnected",
            id_tag=id_tag,
            now=NOW,
        )
    return outcome.session_id


async def test_a_page_with_readings_is_the_json_pydantic_writes_for_the_same_sessions(store: Store) -> None:
    await charge_16(store, "CP-1", "ALICE", minute=0)
    await charge_16(store, "CP-1", 'Ünïcode "quoted" \\ tag', minute=1)
    await charge_16(store, "CP-2", "ALICE", minute=2, stop=False)
    # 2.0.1: the charger's own transaction id, and a stop below the start (flagged NegativeEnergy).
    for seq_no, (event_type, meter_wh) in enumerate([("Started", 5_000), ("Ended", 4_000)]):
        await store.record_transaction_event(
            "CP-3",
            event_type=event_type,  # type: ignore[arg-type]
            transaction_id="tx-201",
            seq_no=seq_no,
            timestamp=T0 + timedelta(minutes=3 + seq_no),
            connector_id=1,
            id_tag=None,
            meter_wh=meter_wh,
            offline=False,
            stopped_reason="Local" if event_type == "Ended" else None,
            raw={},
            now=NOW,
        )

    text = await store.list_sessions_with_readings(limit=10)

    assert text == await model_page(store, limit=10)
    page = SessionWithReadingsPage.model_validate_json(text)
    assert [len(s.readings) for s in page.items] == [2, 2, 2, 2]  # 2.0.1 events with a meter value add one
    assert page.items[3].flags == [SessionFlag.NEGATIVE_ENERGY]
    assert page.items[3].stopped_at is not None
    assert page.items[2].stopped_at is None


async def test_pages_with_readings_follow_the_same_cursors_and_filters(store: Store) -> None:
    for minute in range(5):
        await charge_16(store, "CP-1", "ALICE" if minute % 2 else "BOB", minute=minute)
    await charge_16(store, "CP-1", "CAROL", minute=9)

    first = SessionWithReadingsPage.model_validate_json(
        await store.list_sessions_with_readings(id_tag=["ALICE", "BOB"], limit=3)
    )
    rest = SessionWithReadingsPage.model_validate_json(
        await store.list_sessions_with_readings(id_tag=["ALICE", "BOB"], cursor=first.next_cursor, limit=3)
    )
    plain = await store.list_sessions(id_tag=["ALICE", "BOB"], limit=3)

    assert first.next_cursor == plain.next_cursor
    assert rest.next_cursor is None
    assert [s.id_tag for s in first.items + rest.items] == ["BOB", "ALICE", "BOB", "ALICE", "BOB"]
    assert await store.list_sessions_with_readings(id_tag="CAROL", limit=3) == await model_page(
        store, id_tag="CAROL", limit=3
    )
    assert await store.list_sessions_with_readings(id_tag=[], limit=3) == '{"items":[],"nextCursor":null}'


@given(st.text())
def test_strings_are_written_as_pydantic_writes_them(text: str) -> None:
    assert session_json._string(text) == pydantic_core.to_json(text).decode()

"""Listing sessions: filters, a stable (started_at, id) order, and keyset cursors that survive new rows."""

from datetime import timedelta, timezone

import pytest

from chargeops.api.gateway import Session
from chargeops.ocpp_gateway.store import Store, errors
from tests.unit.ocpp_gateway.store.support import T0


async def start(store: Store, cp_id: str, *, minute: int, id_tag: str = "T", connector_id: int = 1) -> str:
    outcome = await store.start_transaction(
        cp_id, connector_id=connector_id, id_tag=id_tag, meter_start_wh=0, timestamp=T0 + timedelta(minutes=minute)
    )
    return outcome.session_id


async def all_pages(store: Store, *, limit: int, **filters: object) -> list[list[Session]]:
    pages, cursor = [], None
    while True:
        page = await store.list_sessions(cursor=cursor, limit=limit, **filters)  # type: ignore[arg-type]
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_pages_cover_every_session_once_in_start_order(store: Store) -> None:
    # Three sessions share a start time: the id breaks the tie.
    minutes = [5, 1, 3, 3, 3, 0, 9]
    ids = [await start(store, "CP-1", minute=m, connector_id=n) for n, m in enumerate(minutes, start=1)]

    pages = await all_pages(store, limit=2)

    listed = [s for page in pages for s in page]
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert sorted(s.id for s in listed) == sorted(ids)
    assert [(s.started_at, s.id) for s in listed] == sorted((s.started_at, s.id) for s in listed)


async def test_a_full_last_page_has_no_cursor(store: Store) -> None:
    for minute in range(4):
        await start(store, "CP-1", minute=minute)

    pages = await all_pages(store, limit=2)

    assert [len(page) for page in pages] == [2, 2]


async def test_sessions_started_after_a_cursor_was_issued_appear_on_later_pages(store: Store) -> None:
    for minute in (0, 1, 2):
        await start(store, "CP-1", minute=minute)
    first = await store.list_sessions(limit=2)

    late = await start(store, "CP-1", minute=10)
    rest = await store.list_sessions(limit=10, cursor=first.next_cursor)

    assert [s.started_at.minute for s in rest.items] == [2, 10]
    assert rest.items[-1].id == late


async def test_filters_by_charger_id_tag_and_start_range(store: Store) -> None:
    await start(store, "CP-1", minute=0, id_tag="ALICE")
    await start(store, "CP-1", minute=10, id_tag="BOB")
    await start(store, "CP-2", minute=20, id_tag="ALICE")
    await start(store, "CP-2", minute=30, id_tag="ALICE")

    by_charger = await store.list_sessions(charge_point_id="CP-2")
    by_tag = await store.list_sessions(id_tag="ALICE")
    by_range = await store.list_sessions(started_from=T0 + timedelta(minutes=10), started_to=T0 + timedelta(minutes=30))
    combined = await store.list_sessions(
        charge_point_id="CP-2", id_tag="ALICE", started_from=T0 + timedelta(minutes=25)
    )

    assert [s.started_at.minute for s in by_charger.items] == [20, 30]
    assert [s.started_at.minute for s in by_tag.items] == [0, 20, 30]
    assert [s.started_at.minute for s in by_range.items] == [10, 20]  # from inclusive, to exclusive
    assert [s.started_at.minute for s in combined.items] == [30]


async def test_range_bounds_in_another_time_zone_mean_the_same_instant(store: Store) -> None:
    await start(store, "CP-1", minute=0)
    plus_two = timezone(timedelta(hours=2))

    page = await store.list_sessions(
        started_from=T0.astimezone(plus_two), started_to=(T0 + timedelta(minutes=1)).astimezone(plus_two)
    )

    assert len(page.items) == 1


async def test_filtered_pages_keep_the_filter(store: Store) -> None:
    for minute in range(5):
        await start(store, "CP-1", minute=minute)
        await start(store, "CP-2", minute=minute)

    pages = await all_pages(store, limit=2, charge_point_id="CP-2")

    assert {s.charge_point_id for page in pages for s in page} == {"CP-2"}
    assert sum(len(page) for page in pages) == 5


@pytest.mark.parametrize("cursor", ["not-a-cursor", "", "W10", "WyJ4IiwiYSJd", "eyJhIjoxfQ"])
async def test_a_cursor_the_store_did_not_make_is_refused(store: Store, cursor: str) -> None:
    with pytest.raises(errors.InvalidCursorError) as caught:
        await store.list_sessions(cursor=cursor)

    assert caught.value.reason == "InvalidCursor"


@pytest.mark.parametrize("limit", [0, -1, 1001])
async def test_a_limit_outside_one_to_a_thousand_is_refused(store: Store, limit: int) -> None:
    with pytest.raises(errors.InvalidPageLimitError):
        await store.list_sessions(limit=limit)


async def test_unknown_session_ids_find_nothing(store: Store) -> None:
    assert await store.get_session("no-such-session") is None
    assert await store.meter_readings("no-such-session") == []

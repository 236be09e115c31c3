"""OCPP 2.0.1 TransactionEvent: one session per transaction whatever the order, redelivery harmless,
estimates flagged."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from chargeops.api.gateway import Session, SessionFlag
from chargeops.ocpp_gateway.store import Store, TransactionEventType, outcomes, tables
from tests.unit.ocpp_gateway.store.support import NOW, T0, Peek


async def event(
    store: Store,
    event_type: TransactionEventType,
    seq_no: int,
    *,
    minute: int,
    meter_wh: int | None = None,
    cp_id: str = "CP-1",
    transaction_id: str = "tx-1",
    connector_id: int | None = None,
    id_tag: str | None = None,
    offline: bool = False,
    stopped_reason: str | None = None,
) -> outcomes.EventOutcome:
    return await store.record_transaction_event(
        cp_id,
        event_type=event_type,
        transaction_id=transaction_id,
        seq_no=seq_no,
        timestamp=T0 + timedelta(minutes=minute),
        connector_id=connector_id,
        id_tag=id_tag,
        meter_wh=meter_wh,
        offline=offline,
        stopped_reason=stopped_reason,
        raw={"seqNo": seq_no, "eventType": event_type},
        now=NOW,
    )


async def session_of(store: Store, outcome: outcomes.EventOutcome) -> Session:
    session = await store.get_session(outcome.session_id)
    assert session is not None
    return session


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


async def test_started_updated_ended_make_one_closed_session(store: Store) -> None:
    await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=2, id_tag="TAG-1")
    await event(store, "Updated", 1, minute=30, meter_wh=4_000)
    outcome = await event(store, "Ended", 2, minute=60, meter_wh=7_000, stopped_reason="EVDisconnected")

    session = await session_of(store, outcome)
    assert (session.transaction_id, session.connector_id, session.id_tag) == ("tx-1", 2, "TAG-1")
    assert (session.started_at, session.stopped_at) == (at(0), at(60))
    assert (session.meter_start_wh, session.meter_stop_wh, session.energy_wh) == (1_000, 7_000, 6_000)
    assert session.stop_reason == "EVDisconnected"
    assert session.flags == []
    assert [r.energy_wh for r in await store.meter_readings(session.id)] == [1_000, 4_000, 7_000]


async def test_a_redelivered_event_is_a_duplicate_and_changes_nothing(store: Store, peek: Peek) -> None:
    first = await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=1)
    before = await session_of(store, first)

    again = await event(store, "Started", 0, minute=5, meter_wh=9_999, connector_id=1)

    assert again == outcomes.EventOutcome(session_id=first.session_id, duplicate=True)
    assert await session_of(store, again) == before
    assert len(await peek(tables.transaction_events)) == 1


async def test_events_out_of_order_end_in_the_same_session(store: Store) -> None:
    await event(store, "Ended", 2, minute=60, meter_wh=7_000, stopped_reason="Local")
    await event(store, "Updated", 1, minute=30, meter_wh=4_000)
    outcome = await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=1, id_tag="TAG-1")

    session = await session_of(store, outcome)
    assert (session.started_at, session.stopped_at) == (at(0), at(60))
    assert (session.meter_start_wh, session.meter_stop_wh, session.energy_wh) == (1_000, 7_000, 6_000)
    assert (session.connector_id, session.id_tag) == (1, "TAG-1")
    assert session.flags == []
    assert len((await store.list_sessions()).items) == 1


async def test_an_update_before_started_opens_the_session_provisionally(store: Store) -> None:
    outcome = await event(store, "Updated", 1, minute=30, meter_wh=4_000, connector_id=1)

    session = await session_of(store, outcome)
    assert session.started_at == at(30)
    assert session.meter_start_wh == 4_000
    assert session.flags == [SessionFlag.ESTIMATED_START]

    await event(store, "Started", 0, minute=0, meter_wh=1_000)
    session = await session_of(store, outcome)
    assert (session.started_at, session.meter_start_wh, session.flags) == (at(0), 1_000, [])


async def test_ended_without_a_meter_value_uses_the_last_reading_and_says_so(store: Store) -> None:
    await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=1)
    await event(store, "Updated", 1, minute=30, meter_wh=4_000)
    outcome = await event(store, "Ended", 2, minute=60, stopped_reason="Local")

    session = await session_of(store, outcome)
    assert (session.meter_stop_wh, session.energy_wh) == (4_000, 3_000)
    assert session.flags == [SessionFlag.ESTIMATED_STOP]


# With the message kept (``raw``), PostgreSQL takes its one-statement path; without, the steps.
@pytest.mark.parametrize("raw", [(), [{"sampled_value": [{"value": "5500"}]}]], ids=["readings-only", "with-raw"])
async def test_an_estimated_stop_follows_readings_delivered_after_the_end(
    store: Store, raw: list[dict[str, Any]]
) -> None:
    await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=1)
    outcome = await event(store, "Ended", 3, minute=60, stopped_reason="Local")
    await event(store, "Updated", 2, minute=45, meter_wh=5_000)

    session = await session_of(store, outcome)
    assert (session.meter_stop_wh, session.energy_wh) == (5_000, 4_000)

    added = await store.add_meter_values(
        "CP-1", connector_id=1, transaction_id="tx-1", readings=[(at(59), 5_500)], raw=raw, now=NOW
    )
    session = await session_of(store, outcome)
    assert added == 1
    assert (session.meter_stop_wh, session.energy_wh, session.flags) == (5_500, 4_500, [SessionFlag.ESTIMATED_STOP])


async def test_a_transaction_without_any_meter_value_has_zero_energy_and_both_estimates_flagged(store: Store) -> None:
    await event(store, "Started", 0, minute=0, connector_id=1)
    outcome = await event(store, "Ended", 1, minute=60)

    session = await session_of(store, outcome)
    assert (session.meter_start_wh, session.meter_stop_wh, session.energy_wh) == (0, 0, 0)
    assert session.flags == [SessionFlag.ESTIMATED_START, SessionFlag.ESTIMATED_STOP]


async def test_an_offline_event_flags_the_session_delivered_late(store: Store) -> None:
    await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=1)
    outcome = await event(store, "Updated", 1, minute=10, meter_wh=2_000, offline=True)

    session = await session_of(store, outcome)
    assert session.flags == [SessionFlag.DELIVERED_LATE]


async def test_the_id_tag_of_a_later_authorization_is_kept(store: Store) -> None:
    await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=1)
    outcome = await event(store, "Updated", 1, minute=1, id_tag="TAG-LATE")

    session = await session_of(store, outcome)
    assert session.id_tag == "TAG-LATE"


async def test_the_same_transaction_id_on_two_chargers_is_two_sessions(store: Store) -> None:
    one = await event(store, "Started", 0, minute=0, meter_wh=1, cp_id="CP-1")
    two = await event(store, "Started", 0, minute=0, meter_wh=1, cp_id="CP-2")

    assert one.session_id != two.session_id


async def test_every_distinct_event_is_kept_raw(store: Store, peek: Peek) -> None:
    await event(store, "Started", 0, minute=0, meter_wh=1_000, connector_id=1)
    await event(store, "Updated", 1, minute=1, meter_wh=1_100)
    await event(store, "Updated", 1, minute=1, meter_wh=1_100)

    stored = await peek(tables.transaction_events)
    assert [(e["seq_no"], e["event_type"], e["raw"]) for e in stored] == [
        (0, "Started", {"seqNo": 0, "eventType": "Started"}),
        (1, "Updated", {"seqNo": 1, "eventType": "Updated"}),
    ]


async def test_extra_flags_are_added_to_the_session(store: Store) -> None:
    outcome = await store.record_transaction_event(
        "CP-1",
        event_type="Started",
        transaction_id="tx-9",
        seq_no=0,
        timestamp=T0,
        connector_id=1,
        id_tag="STRANGER",
        meter_wh=10,
        offline=False,
        stopped_reason=None,
        raw={},
        flags=[SessionFlag.UNKNOWN_ID_TAG],
    )

    session = await session_of(store, outcome)
    assert session.flags == [SessionFlag.UNKNOWN_ID_TAG]

"""OCPP 1.6 StartTransaction / MeterValues / StopTransaction: stored once, retries recognised, nothing lost."""

from datetime import timedelta

import pytest

from chargeops.api.gateway import SessionFlag
from chargeops.ocpp_gateway.store import Store, errors, tables
from tests.unit.ocpp_gateway.store.support import NOW, T0, Peek, first_words_sent


async def start(store: Store, cp_id: str = "CP-1", *, meter_start_wh: int = 1_000, id_tag: str = "TAG-1") -> int:
    outcome = await store.start_transaction(
        cp_id, connector_id=1, id_tag=id_tag, meter_start_wh=meter_start_wh, timestamp=T0, now=NOW
    )
    return outcome.transaction_id


async def test_start_stores_an_open_session_with_a_new_transaction_id(store: Store) -> None:
    outcome = await store.start_transaction(
        "CP-1", connector_id=2, id_tag="TAG-1", meter_start_wh=1_000, timestamp=T0, now=NOW
    )

    session = await store.get_session(outcome.session_id)
    assert not outcome.duplicate
    assert outcome.transaction_id >= 1
    assert session is not None
    assert session.model_dump(by_alias=False) == {
        "id": outcome.session_id,
        "charge_point_id": "CP-1",
        "connector_id": 2,
        "transaction_id": str(outcome.transaction_id),
        "id_tag": "TAG-1",
        "started_at": T0,
        "stopped_at": None,
        "meter_start_wh": 1_000,
        "meter_stop_wh": None,
        "energy_wh": None,
        "stop_reason": None,
        "flags": [],
        "updated_at": NOW,
    }


async def test_retried_start_gets_the_same_transaction_id(store: Store) -> None:
    first = await store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=5, timestamp=T0)
    again = await store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=5, timestamp=T0)

    assert (again.transaction_id, again.session_id, again.duplicate) == (first.transaction_id, first.session_id, True)
    assert len((await store.list_sessions()).items) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"connector_id": 2},
        {"id_tag": "OTHER"},
        {"meter_start_wh": 6},
        {"timestamp": T0 + timedelta(seconds=1)},
    ],
)
async def test_a_start_differing_in_any_key_field_is_a_new_transaction(store: Store, change: dict[str, object]) -> None:
    base: dict[str, object] = {"connector_id": 1, "id_tag": "T", "meter_start_wh": 5, "timestamp": T0}
    first = await store.start_transaction("CP-1", **base)  # type: ignore[arg-type]
    second = await store.start_transaction("CP-1", **{**base, **change})  # type: ignore[arg-type]

    assert second.transaction_id != first.transaction_id
    assert not second.duplicate


async def test_the_same_start_on_another_charger_is_another_transaction(store: Store) -> None:
    first = await store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=5, timestamp=T0)
    second = await store.start_transaction("CP-2", connector_id=1, id_tag="T", meter_start_wh=5, timestamp=T0)

    assert second.transaction_id != first.transaction_id


async def test_start_flags_are_kept(store: Store) -> None:
    outcome = await store.start_transaction(
        "CP-1",
        connector_id=1,
        id_tag="T",
        meter_start_wh=5,
        timestamp=T0,
        flags=[SessionFlag.UNKNOWN_ID_TAG, SessionFlag.DELIVERED_LATE],
    )

    session = await store.get_session(outcome.session_id)
    assert session is not None
    assert set(session.flags) == {SessionFlag.UNKNOWN_ID_TAG, SessionFlag.DELIVERED_LATE}


async def test_stop_closes_the_session_with_its_energy(store: Store) -> None:
    transaction_id = await start(store, meter_start_wh=1_000)

    outcome = await store.stop_transaction(
        "CP-1",
        transaction_id,
        meter_stop_wh=8_500,
        timestamp=T0 + timedelta(hours=2),
        reason="EVDisconnected",
        id_tag="TAG-1",
        now=NOW,
    )

    assert (outcome.duplicate, outcome.unknown) == (False, False)
    assert outcome.session is not None
    assert outcome.session.stopped_at == T0 + timedelta(hours=2)
    assert (outcome.session.meter_stop_wh, outcome.session.energy_wh) == (8_500, 7_500)
    assert outcome.session.stop_reason == "EVDisconnected"
    assert outcome.session.flags == []
    assert await store.get_session(outcome.session.id) == outcome.session


async def test_retried_stop_is_a_duplicate_and_changes_nothing(store: Store) -> None:
    transaction_id = await start(store)
    first = await store.stop_transaction(
        "CP-1", transaction_id, meter_stop_wh=2_000, timestamp=T0 + timedelta(hours=1), reason="Local", id_tag=None
    )

    again = await store.stop_transaction(
        "CP-1",
        transaction_id,
        meter_stop_wh=2_000,
        timestamp=T0 + timedelta(hours=1),
        reason="Local",
        id_tag=None,
        now=NOW + timedelta(days=1),
    )

    assert (again.duplicate, again.unknown) == (True, False)
    assert again.session == first.session


async def test_a_second_different_stop_does_not_change_the_closed_session(store: Store) -> None:
    transaction_id = await start(store)
    first = await store.stop_transaction(
        "CP-1", transaction_id, meter_stop_wh=2_000, timestamp=T0 + timedelta(hours=1), reason="Local", id_tag=None
    )

    other = await store.stop_transaction(
        "CP-1", transaction_id, meter_stop_wh=9_999, timestamp=T0 + timedelta(hours=3), reason="Other", id_tag=None
    )

    assert other.duplicate
    assert await store.get_session(first.session.id if first.session else "") == first.session


async def test_stop_of_an_unknown_transaction_is_kept_as_an_orphan(store: Store, peek: Peek) -> None:
    outcome = await store.stop_transaction(
        "CP-1", 424242, meter_stop_wh=10, timestamp=T0, reason="Local", id_tag="T", transaction_data=[{"x": 1}]
    )
    again = await store.stop_transaction(
        "CP-1", 424242, meter_stop_wh=10, timestamp=T0, reason="Local", id_tag="T", transaction_data=[{"x": 1}]
    )

    assert (outcome.session, outcome.duplicate, outcome.unknown) == (None, False, True)
    assert again.unknown
    stops = await peek(tables.stop_transactions)
    assert [(s["charge_point_id"], s["transaction_id"], s["session_pk"], s["transaction_data"]) for s in stops] == [
        ("CP-1", 424242, None, [{"x": 1}])
    ]


async def test_stop_of_another_chargers_transaction_is_unknown_to_this_one(store: Store) -> None:
    transaction_id = await start(store, "CP-1")

    outcome = await store.stop_transaction(
        "CP-2", transaction_id, meter_stop_wh=2_000, timestamp=T0, reason=None, id_tag=None
    )

    assert outcome.unknown
    session = (await store.list_sessions()).items[0]
    assert session.stopped_at is None


async def test_meter_stop_below_meter_start_is_kept_and_flagged(store: Store) -> None:
    transaction_id = await start(store, meter_start_wh=5_000)

    outcome = await store.stop_transaction(
        "CP-1", transaction_id, meter_stop_wh=4_000, timestamp=T0 + timedelta(hours=1), reason=None, id_tag=None
    )

    assert outcome.session is not None
    assert outcome.session.energy_wh == -1_000
    assert outcome.session.flags == [SessionFlag.NEGATIVE_ENERGY]


async def test_transaction_data_is_kept_raw_and_as_readings(store: Store, peek: Peek) -> None:
    transaction_id = await start(store)
    data = [{"timestamp": (T0 + timedelta(minutes=30)).isoformat(), "sampled_value": [{"value": "1500"}]}]

    outcome = await store.stop_transaction(
        "CP-1",
        transaction_id,
        meter_stop_wh=2_000,
        timestamp=T0 + timedelta(hours=1),
        reason=None,
        id_tag=None,
        transaction_data=data,
        readings=[(T0 + timedelta(minutes=30), 1_500)],
    )

    assert outcome.session is not None
    readings = await store.meter_readings(outcome.session.id)
    assert [(r.timestamp, r.energy_wh) for r in readings] == [(T0 + timedelta(minutes=30), 1_500)]
    assert [stop["transaction_data"] for stop in await peek(tables.stop_transactions)] == [data]


async def test_meter_values_attach_to_the_transaction_and_skip_repeated_timestamps(store: Store) -> None:
    transaction_id = await start(store)
    readings = [(T0 + timedelta(minutes=minute), 1_000 + 10 * minute) for minute in (1, 2, 3)]

    added = await store.add_meter_values(
        "CP-1", connector_id=1, transaction_id=str(transaction_id), readings=readings, raw=[{"m": 1}]
    )
    added_again = await store.add_meter_values(
        "CP-1",
        connector_id=1,
        transaction_id=str(transaction_id),
        readings=[*readings, (T0 + timedelta(minutes=4), 1_040)],
    )

    session = (await store.list_sessions()).items[0]
    stored = await store.meter_readings(session.id)
    assert (added, added_again) == (3, 1)
    assert [r.energy_wh for r in stored] == [1_010, 1_020, 1_030, 1_040]


async def test_of_one_timestamp_twice_in_a_message_the_first_reading_is_kept(store: Store, peek: Peek) -> None:
    transaction_id = await start(store)
    twice = [(T0 + timedelta(minutes=1), 1_010), (T0 + timedelta(minutes=1), 1_099), (T0 + timedelta(minutes=2), 1_020)]

    added = await store.add_meter_values(
        "CP-1", connector_id=1, transaction_id=str(transaction_id), readings=twice, raw=[{"m": 1}]
    )

    stored = await store.meter_readings((await store.list_sessions()).items[0].id)
    assert added == 2
    assert [r.energy_wh for r in stored] == [1_010, 1_020]
    assert [(b["transaction_id"], b["meter_values"]) for b in await peek(tables.meter_value_batches)] == [
        (str(transaction_id), [{"m": 1}])
    ]


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_on_postgresql_meter_values_are_one_statement(store: Store) -> None:
    transaction_id = await start(store)
    with first_words_sent(store) as sent:
        added = await store.add_meter_values(
            "CP-1", connector_id=1, transaction_id=str(transaction_id), readings=[(T0, 1_001)], raw=[{"m": 1}]
        )

    assert (added, sent) == (1, ["WITH"])


async def test_meter_values_without_a_known_transaction_keep_the_raw_values_only(store: Store, peek: Peek) -> None:
    await start(store)

    added = await store.add_meter_values(
        "CP-1", connector_id=1, transaction_id=None, readings=[(T0, 1)], raw=[{"sampled_value": []}]
    )
    added_unknown = await store.add_meter_values(
        "CP-1", connector_id=1, transaction_id="987654", readings=[(T0, 1)], raw=[{"sampled_value": []}]
    )

    assert (added, added_unknown) == (0, 0)
    batches = await peek(tables.meter_value_batches)
    assert [(b["transaction_id"], b["session_pk"], b["meter_values"]) for b in batches] == [
        (None, None, [{"sampled_value": []}]),
        ("987654", None, [{"sampled_value": []}]),
    ]


async def test_transaction_ids_outside_64_bits_are_refused(store: Store) -> None:
    with pytest.raises(errors.InvalidTransactionIdError) as caught:
        await store.stop_transaction("CP-1", 2**63, meter_stop_wh=1, timestamp=T0, reason=None, id_tag=None)

    assert caught.value.reason == "InvalidTransactionId"

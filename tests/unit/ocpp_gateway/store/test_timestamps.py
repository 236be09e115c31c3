"""Times are stored as UTC and come back timezone-aware; a naive datetime is refused, never guessed."""

from datetime import datetime, timedelta, timezone

import pytest

from chargeops.ocpp_gateway.store import Store, errors
from tests.unit.ocpp_gateway.store.support import T0

NAIVE = datetime(2025, 3, 1, 8, 0)  # noqa: DTZ001 - the point of these tests


async def test_a_time_with_an_offset_is_stored_as_the_same_instant_in_utc(store: Store) -> None:
    local = T0.astimezone(timezone(timedelta(hours=-5)))

    outcome = await store.start_transaction(
        "CP-1", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=local, now=local
    )

    session = await store.get_session(outcome.session_id)
    assert session is not None
    assert session.started_at == T0
    assert session.started_at.utcoffset() == timedelta(0)
    assert session.updated_at.tzinfo is not None


async def test_microseconds_survive_the_round_trip(store: Store) -> None:
    precise = T0 + timedelta(microseconds=123_456)

    outcome = await store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=precise)
    again = await store.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=precise)

    session = await store.get_session(outcome.session_id)
    assert session is not None
    assert session.started_at == precise
    assert again.duplicate


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda s: s.start_transaction("CP-1", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=NAIVE),
            "timestamp",
        ),
        (
            lambda s: s.start_transaction(
                "CP-1", connector_id=1, id_tag="T", meter_start_wh=0, timestamp=T0, now=NAIVE
            ),
            "now",
        ),
        (
            lambda s: s.stop_transaction("CP-1", 1, meter_stop_wh=0, timestamp=NAIVE, reason=None, id_tag=None),
            "timestamp",
        ),
        (lambda s: s.add_meter_values("CP-1", connector_id=1, transaction_id="1", readings=[(NAIVE, 1)]), "readings"),
        (lambda s: s.list_sessions(started_from=NAIVE), "started_from"),
        (lambda s: s.update_observed("CP-1", {"connected": True}, now=NAIVE), "now"),
    ],
)
async def test_a_naive_datetime_is_refused_with_the_field_named(store: Store, call: object, field: str) -> None:
    with pytest.raises(errors.NaiveTimestampError) as caught:
        await call(store)  # type: ignore[operator]

    assert caught.value.field == field
    assert caught.value.reason == "NaiveTimestamp"
    assert (await store.list_sessions()).items == []

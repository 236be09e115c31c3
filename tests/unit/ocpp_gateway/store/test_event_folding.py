"""The pure rules that fold OCPP 2.0.1 events into a session: any delivery order gives the same session.

Runs ``folding.fold`` and ``folding.settle`` the way ``events`` does, over an in-memory row and reading
table, for many more orders than the database tests can afford.
"""

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chargeops.ocpp_gateway.store import folding
from tests.unit.ocpp_gateway.store.support import T0


def apply(events: list[folding.Event]) -> dict[str, Any]:
    """The session row after ``events`` in this order, as ``events.record`` would leave it."""
    session: dict[str, Any] | None = None
    readings: dict[datetime, int] = {}
    for event in events:
        if session is None:
            session = {**folding.new_session(event), "stopped_at": None, "meter_stop_wh": None, "energy_wh": None}
        changes = folding.fold(session, event)
        if event.meter_wh is not None:
            readings.setdefault(event.timestamp, event.meter_wh)
        merged = {**session, **changes}
        ordered = [readings[t] for t in sorted(readings)]
        changes.update(
            folding.settle(merged, first_wh=ordered[0] if ordered else None, last_wh=ordered[-1] if ordered else None)
        )
        session = {**session, **changes}
    assert session is not None
    return session


@st.composite
def transaction_events(draw: st.DrawFn) -> list[folding.Event]:
    count = draw(st.integers(min_value=1, max_value=8))
    meter = draw(st.integers(min_value=0, max_value=10**9))
    events = []
    for n in range(count):
        meter += draw(st.integers(min_value=0, max_value=10**5))
        kind = "Started" if n == 0 else "Ended" if n == count - 1 and count > 1 else "Updated"
        events.append(
            folding.Event(
                event_type=kind,  # type: ignore[arg-type]
                timestamp=T0 + timedelta(minutes=n),
                connector_id=draw(st.sampled_from([None, 1])),
                id_tag="TAG" if kind == "Started" else None,
                meter_wh=meter if draw(st.booleans()) else None,
                offline=draw(st.booleans()),
                stopped_reason="Local" if kind == "Ended" else None,
            )
        )
    # A lost Started (never delivered) must still give a session, flagged.
    if draw(st.booleans()) and count > 1:
        events = events[1:]
    return events


@given(events=transaction_events(), order=st.randoms(use_true_random=False))
def test_the_session_does_not_depend_on_delivery_order(events: list[folding.Event], order: Any) -> None:
    shuffled = list(events)
    order.shuffle(shuffled)

    assert apply(shuffled) == apply(events)


@given(events=transaction_events())
def test_energy_is_stop_minus_start_and_never_made_up(events: list[folding.Event]) -> None:
    session = apply(events)

    if session["stopped_at"] is not None:
        assert session["energy_wh"] == session["meter_stop_wh"] - session["meter_start_wh"]
        assert session["flag_negative_energy"] == (session["meter_stop_wh"] < session["meter_start_wh"])
    known = {e.meter_wh for e in events if e.meter_wh is not None}
    # Every meter value in the session is one the charger sent, or 0 with the estimate flagged.
    assert session["meter_start_wh"] in known or (session["meter_start_wh"] == 0 and session["flag_estimated_start"])


@given(events=transaction_events())
def test_without_a_started_event_the_start_is_the_earliest_event(events: list[folding.Event]) -> None:
    session = apply(events)

    if not any(e.event_type == "Started" for e in events):
        assert session["started_at"] == min(e.timestamp for e in events)
        assert session["flag_estimated_start"]


def test_fold_reports_only_the_columns_that_change() -> None:
    started = folding.Event("Started", T0, 1, "TAG", 100, offline=False, stopped_reason=None)
    session = {**folding.new_session(started), "stopped_at": None, "meter_stop_wh": None}
    session.update(folding.fold(session, started))

    assert folding.fold(session, started) == {}

"""Property: however a charger's messages are interleaved, retried or reordered, every transaction ends
as exactly one session with the right energy (DESIGN.md invariant 4).

Hypothesis generates transactions with meter values, sends every message one to three times, shuffles
the lot and delivers it to a real store; the result must equal what the transactions say. The store is
shared by the examples of one test, so each example uses a charger id of its own.
"""

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargeops.api.gateway import SessionFlag
from chargeops.ocpp_gateway.store import Store, TransactionEventType
from tests.unit.ocpp_gateway.store.support import T0

# Each example talks to a real database; a few dozen interleavings per backend find ordering bugs
# without making the suite slow. The pure folding rules get many more in test_event_folding.py.
DB_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

energy_register = st.integers(min_value=0, max_value=2**40)


@dataclasses.dataclass(frozen=True)
class Transaction16:
    connector_id: int
    started_at: datetime
    meter_start_wh: int
    readings: tuple[tuple[datetime, int], ...]
    meter_stop_wh: int


@st.composite
def ocpp16_transactions(draw: st.DrawFn) -> list[Transaction16]:
    count = draw(st.integers(min_value=1, max_value=3))
    transactions = []
    for index in range(count):
        started_at = T0 + timedelta(hours=index)
        start_wh = draw(energy_register)
        deltas = draw(st.lists(st.integers(min_value=0, max_value=50_000), max_size=4))
        readings, meter = [], start_wh
        for minute, delta in enumerate(deltas, start=1):
            meter += delta
            readings.append((started_at + timedelta(minutes=minute), meter))
        # Mostly forward, sometimes backwards (a replaced meter): the store must keep and flag that.
        stop_wh = draw(st.one_of(st.just(meter), st.integers(min_value=0, max_value=2**40)))
        transactions.append(Transaction16(index % 2 + 1, started_at, start_wh, tuple(readings), stop_wh))
    return transactions


@given(transactions=ocpp16_transactions(), data=st.data())
@DB_SETTINGS
async def test_ocpp16_messages_in_any_order_and_number_leave_one_correct_session_each(
    store: Store, new_cp_id: Callable[[], str], transactions: list[Transaction16], data: st.DataObject
) -> None:
    cp_id = new_cp_id()
    # (transaction index, "start" | "meter" | "stop", reading index), each sent 1-3 times, shuffled.
    messages = []
    for index, tx in enumerate(transactions):
        kinds = [("start", 0), *(("meter", n) for n in range(len(tx.readings))), ("stop", 0)]
        for kind, n in kinds:
            messages += [(index, kind, n)] * data.draw(st.integers(min_value=1, max_value=3))
    queue = data.draw(st.permutations(messages))

    transaction_ids: dict[int, int] = {}
    first_starts = []
    while queue:
        index, kind, n = queue.pop(0)
        tx = transactions[index]
        if kind != "start" and index not in transaction_ids:
            queue.append((index, kind, n))  # the charger has no transactionId to send yet
            continue
        if kind == "start":
            outcome = await store.start_transaction(
                cp_id,
                connector_id=tx.connector_id,
                id_tag="TAG",
                meter_start_wh=tx.meter_start_wh,
                timestamp=tx.started_at,
            )
            assert transaction_ids.setdefault(index, outcome.transaction_id) == outcome.transaction_id
            if not outcome.duplicate:
                first_starts.append(index)
        elif kind == "meter":
            await store.add_meter_values(
                cp_id,
                connector_id=tx.connector_id,
                transaction_id=str(transaction_ids[index]),
                readings=[tx.readings[n]],
            )
        else:
            await store.stop_transaction(
                cp_id,
                transaction_ids[index],
                meter_stop_wh=tx.meter_stop_wh,
                timestamp=tx.started_at + timedelta(minutes=30),
                reason="Local",
                id_tag="TAG",
            )

    assert sorted(first_starts) == list(range(len(transactions)))
    sessions = (await store.list_sessions(charge_point_id=cp_id)).items
    assert len(sessions) == len(transactions)
    for index, tx in enumerate(transactions):
        (session,) = [s for s in sessions if s.transaction_id == str(transaction_ids[index])]
        assert (session.meter_start_wh, session.meter_stop_wh) == (tx.meter_start_wh, tx.meter_stop_wh)
        assert session.energy_wh == tx.meter_stop_wh - tx.meter_start_wh
        assert (SessionFlag.NEGATIVE_ENERGY in session.flags) == (tx.meter_stop_wh < tx.meter_start_wh)
        stored = [(r.timestamp, r.energy_wh) for r in await store.meter_readings(session.id)]
        assert stored == list(tx.readings)


@dataclasses.dataclass(frozen=True)
class Event201:
    event_type: TransactionEventType
    seq_no: int
    timestamp: datetime
    meter_wh: int | None
    offline: bool


@st.composite
def ocpp201_transactions(draw: st.DrawFn) -> list[Event201]:
    """Started, some Updated, Ended, with increasing times and meter values; any meter value may be absent."""
    updates = draw(st.integers(min_value=0, max_value=5))
    meter = draw(energy_register)
    events = []
    for seq_no in range(updates + 2):
        event_type: TransactionEventType = "Started" if seq_no == 0 else "Ended" if seq_no == updates + 1 else "Updated"
        meter += draw(st.integers(min_value=0, max_value=20_000))
        has_meter = draw(st.booleans())
        offline = draw(st.booleans()) if draw(st.integers(0, 3)) == 0 else False
        events.append(
            Event201(event_type, seq_no, T0 + timedelta(minutes=seq_no), meter if has_meter else None, offline)
        )
    return events


def expected_ocpp201_session(events: list[Event201]) -> tuple[int, int, set[SessionFlag]]:
    """(meter start, meter stop, flags) by the rules of ``folding``, computed the plain way."""
    readings = sorted((e.timestamp, e.meter_wh) for e in events if e.meter_wh is not None)
    started, ended = events[0], events[-1]
    flags = set()
    if started.meter_wh is not None:
        meter_start = started.meter_wh
    else:
        meter_start = readings[0][1] if readings else 0
        flags.add(SessionFlag.ESTIMATED_START)
    if ended.meter_wh is not None:
        meter_stop = ended.meter_wh
    else:
        meter_stop = readings[-1][1] if readings else meter_start
        flags.add(SessionFlag.ESTIMATED_STOP)
    if any(e.offline for e in events):
        flags.add(SessionFlag.DELIVERED_LATE)
    return meter_start, meter_stop, flags


@given(events=ocpp201_transactions(), data=st.data())
@DB_SETTINGS
async def test_ocpp201_events_in_any_order_and_number_leave_one_correct_session(
    store: Store, new_cp_id: Callable[[], str], events: list[Event201], data: st.DataObject
) -> None:
    cp_id = new_cp_id()
    deliveries = [e for e in events for _ in range(data.draw(st.integers(min_value=1, max_value=3)))]
    session_ids = set()
    for e in data.draw(st.permutations(deliveries)):
        outcome = await store.record_transaction_event(
            cp_id,
            event_type=e.event_type,
            transaction_id="tx",
            seq_no=e.seq_no,
            timestamp=e.timestamp,
            connector_id=1 if e.event_type == "Started" else None,
            id_tag="TAG" if e.event_type == "Started" else None,
            meter_wh=e.meter_wh,
            offline=e.offline,
            stopped_reason="Local" if e.event_type == "Ended" else None,
            raw={"seqNo": e.seq_no},
        )
        session_ids.add(outcome.session_id)

    (session,) = (await store.list_sessions(charge_point_id=cp_id)).items
    meter_start, meter_stop, flags = expected_ocpp201_session(events)
    assert session_ids == {session.id}
    assert (session.started_at, session.stopped_at) == (events[0].timestamp, events[-1].timestamp)
    assert (session.connector_id, session.id_tag, session.stop_reason) == (1, "TAG", "Local")
    assert (session.meter_start_wh, session.meter_stop_wh) == (meter_start, meter_stop)
    assert session.energy_wh == meter_stop - meter_start
    assert set(session.flags) == flags

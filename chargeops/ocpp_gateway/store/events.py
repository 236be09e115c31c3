"""OCPP 2.0.1 TransactionEvent: every event kept once, its session created and shaped by ``folding``.

``Store.record_transaction_event`` calls ``record`` inside one write transaction. The unique key
(charger, transactionId, seqNo) makes a redelivered event a no-op; the session row is locked first, so
two events of one transaction (say, delivered to two replicas across a reconnect) apply one after the
other. An Updated event of a running session costs three statements: lock the session, insert the
event, insert its reading; the session row is written only when the event changes it.
"""

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Select, bindparam, select

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import database, folding, outcomes, readings, sessions, tables

_S = tables.sessions.c


def record(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    *,
    transaction_id: str,
    seq_no: int,
    event: folding.Event,
    raw: Mapping[str, Any],
    flags: Collection[gateway.SessionFlag],
    now: datetime,
) -> outcomes.EventOutcome:
    """Store one TransactionEvent and fold it into its session; see ``Store.record_transaction_event``."""
    session = _locked_session(db, conn, cp_id, transaction_id, event=event, now=now)
    stored = conn.execute(
        db.statement(_insert_event),
        {
            "charge_point_id": cp_id,
            "transaction_id": transaction_id,
            "seq_no": seq_no,
            "event_type": event.event_type,
            "timestamp": event.timestamp,
            "session_pk": session["pk"],
            "offline": event.offline,
            "meter_wh": event.meter_wh,
            "raw": dict(raw),
            "received_at": now,
        },
    )
    if stored.first() is None:
        return outcomes.EventOutcome(session_id=session["id"], duplicate=True)

    changes = folding.fold(session, event)
    for flag in flags:
        column = sessions.FLAG_COLUMN_BY_FLAG[flag]
        if not session[column]:
            changes[column] = True
    new_reading = False
    if event.meter_wh is not None:
        new_reading = readings.insert(db, conn, session["pk"], [(event.timestamp, event.meter_wh)]) > 0
    if changes or new_reading:
        changes.update(readings.settle(db, conn, {**session, **changes}))
    if changes:
        conn.execute(db.statement(sessions.update_by_pk), {"b_pk": session["pk"], **changes, "updated_at": now})
    return outcomes.EventOutcome(session_id=session["id"], duplicate=False)


def _locked_session(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    transaction_id: str,
    *,
    event: folding.Event,
    now: datetime,
) -> dict[str, Any]:
    """The session of this transaction, locked until commit; created from ``event`` if it is the first."""
    key = {"b_cp": cp_id, "b_tx": transaction_id}
    found = conn.execute(db.statement(_lock_transaction), key).mappings().first()
    if found is not None:
        return dict(found)
    # ON CONFLICT: another replica may create it between our look-up and this insert; then we lock theirs.
    conn.execute(
        db.statement(_insert_session),
        {
            "id": str(uuid.uuid4()),
            "charge_point_id": cp_id,
            "charger_transaction_id": transaction_id,
            "updated_at": now,
            **folding.new_session(event),
        },
    )
    return dict(conn.execute(db.statement(_lock_transaction), key).mappings().one())


# The statements, built once per database by ``Database.statement``. ---------------------------------


def _lock_transaction(db: database.Database) -> Select[Any]:
    return db.lock_rows(
        select(tables.sessions).where(
            _S.charge_point_id == bindparam("b_cp"), _S.charger_transaction_id == bindparam("b_tx")
        )
    )


def _insert_session(db: database.Database) -> Insert:
    return db.insert(tables.sessions).on_conflict_do_nothing(
        index_elements=["charge_point_id", "charger_transaction_id"]
    )


def _insert_event(db: database.Database) -> Insert:
    return (
        db.insert(tables.transaction_events)
        .on_conflict_do_nothing(index_elements=["charge_point_id", "transaction_id", "seq_no"])
        .returning(tables.transaction_events.c.pk)
    )

"""Energy register readings of a session: the batched insert, and the estimates that depend on them.

``transactions`` (1.6 MeterValues, StopTransaction) and ``events`` (2.0.1 TransactionEvent) both add
readings through ``insert`` and then call ``settle`` so a session whose start or stop meter value is
estimated (``folding``) follows its newest readings.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Select, bindparam, select

from chargeops.ocpp_gateway.store import database, folding, tables


def insert(db: database.Database, conn: Connection, session_pk: int, readings: Sequence[tuple[datetime, int]]) -> int:
    """Store ``readings`` (timestamp, Wh) of one session; a timestamp it already has is skipped.

    Returns how many were new. One INSERT for the whole batch (SQLAlchemy packs the rows into
    multi-row VALUES), ``ON CONFLICT DO NOTHING``, so a redelivered MeterValues changes nothing.
    """
    rows = [{"session_pk": session_pk, "timestamp": ts, "energy_wh": wh} for ts, wh in unique(readings).items()]
    if not rows:
        return 0
    return len(conn.execute(db.statement(_insert_readings), rows).all())


def unique(readings: Sequence[tuple[datetime, int]]) -> dict[datetime, int]:
    """``readings`` by timestamp; of the same timestamp twice in one message the first is kept, as the
    database keeps the first one stored."""
    by_time: dict[datetime, int] = {}
    for timestamp, energy_wh in readings:
        by_time.setdefault(timestamp, energy_wh)
    return by_time


def settle(db: database.Database, conn: Connection, session: Mapping[str, Any]) -> dict[str, Any]:
    """The estimated meter values and energy of ``session`` (a locked row with pending changes merged in)
    that differ from it; the caller writes them with its own changes, in one UPDATE.

    Reads the earliest and latest reading only when an estimate needs them (``folding.needs_readings``).
    """
    first_wh = last_wh = None
    if folding.needs_readings(session):
        first_wh, last_wh = conn.execute(db.statement(_first_and_last), {"b_pk": session["pk"]}).one()
    return folding.settle(session, first_wh=first_wh, last_wh=last_wh)


def _insert_readings(db: database.Database) -> Insert:
    return (
        db.insert(tables.meter_readings)
        .on_conflict_do_nothing(index_elements=["session_pk", "timestamp"])
        .returning(tables.meter_readings.c.timestamp)
    )


def _first_and_last(_db: database.Database) -> Select[Any]:
    r = tables.meter_readings.c
    of_session = select(r.energy_wh).where(r.session_pk == bindparam("b_pk")).limit(1)
    return select(
        of_session.order_by(r.timestamp.asc()).scalar_subquery(),
        of_session.order_by(r.timestamp.desc()).scalar_subquery(),
    )

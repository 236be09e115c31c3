"""Reading sessions back: one by id, pages for the control API, and a session's meter readings.

``Store`` calls these; ``transactions`` and ``events`` use ``to_session`` to answer with the stored row.
Pages are keyset-paginated in the order (started_at, id): the cursor carries the last row's key, so a
page never repeats or skips a session when new ones arrive meanwhile (OFFSET would), and each page is
one index range scan however deep it is.
"""

import base64
import binascii
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, Update, bindparam, select, tuple_, update

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import database, errors, tables

MAX_PAGE_LIMIT = 1000

# The flag columns of ``tables.sessions`` and the SessionFlag each stands for, in the order reported.
FLAG_COLUMNS = (
    ("flag_estimated_start", gateway.SessionFlag.ESTIMATED_START),
    ("flag_estimated_stop", gateway.SessionFlag.ESTIMATED_STOP),
    ("flag_negative_energy", gateway.SessionFlag.NEGATIVE_ENERGY),
    ("flag_delivered_late", gateway.SessionFlag.DELIVERED_LATE),
    ("flag_unknown_id_tag", gateway.SessionFlag.UNKNOWN_ID_TAG),
)
FLAG_COLUMN_BY_FLAG = {flag: column for column, flag in FLAG_COLUMNS}


def to_session(row: RowMapping) -> gateway.Session:
    """The wire record of one ``sessions`` row."""
    return gateway.Session(**_session_fields(row))


def _session_fields(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "charge_point_id": row["charge_point_id"],
        "connector_id": row["connector_id"],
        # OCPP 1.6 transactionIds are the row's key; 2.0.1 ones are the charger's.
        "transaction_id": row["charger_transaction_id"] or str(row["pk"]),
        "id_tag": row["id_tag"],
        "started_at": row["started_at"],
        "stopped_at": row["stopped_at"],
        "meter_start_wh": row["meter_start_wh"],
        "meter_stop_wh": row["meter_stop_wh"],
        "energy_wh": row["energy_wh"],
        "stop_reason": row["stop_reason"],
        "flags": [flag for column, flag in FLAG_COLUMNS if row[column]],
        "updated_at": row["updated_at"],
    }


def get(_db: database.Database, conn: Connection, session_id: str) -> gateway.Session | None:
    """The session with the gateway's id ``session_id``, or None."""
    row = conn.execute(select(tables.sessions).where(tables.sessions.c.id == session_id)).mappings().first()
    return None if row is None else to_session(row)


def get_by_pk(_db: database.Database, conn: Connection, pk: int) -> gateway.Session | None:
    """The session whose row key is ``pk``, or None."""
    row = conn.execute(select(tables.sessions).where(tables.sessions.c.pk == pk)).mappings().first()
    return None if row is None else to_session(row)


def page(
    _db: database.Database,
    conn: Connection,
    *,
    charge_point_id: str | None,
    id_tag: str | Collection[str] | None,
    started_from: datetime | None,
    started_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> gateway.SessionPage:
    """Sessions matching every given filter, ``limit`` at most, after ``cursor``; see ``Store.list_sessions``."""
    rows, next_cursor = _page_rows(
        conn,
        charge_point_id=charge_point_id,
        id_tag=id_tag,
        started_from=started_from,
        started_to=started_to,
        cursor=cursor,
        limit=limit,
    )
    return gateway.SessionPage(items=[to_session(row) for row in rows], next_cursor=next_cursor)


def page_with_readings(
    _db: database.Database,
    conn: Connection,
    *,
    charge_point_id: str | None,
    id_tag: str | Collection[str] | None,
    started_from: datetime | None,
    started_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> gateway.SessionWithReadingsPage:
    """``page``, each session with its readings: all of the page's readings come in one more query."""
    rows, next_cursor = _page_rows(
        conn,
        charge_point_id=charge_point_id,
        id_tag=id_tag,
        started_from=started_from,
        started_to=started_to,
        cursor=cursor,
        limit=limit,
    )
    by_session: dict[int, list[gateway.MeterReading]] = {row["pk"]: [] for row in rows}
    if by_session:
        r = tables.meter_readings.c
        query = (
            select(r.session_pk, r.timestamp, r.energy_wh)
            .where(r.session_pk.in_(list(by_session)))
            .order_by(r.session_pk, r.timestamp)
        )
        for session_pk, timestamp, energy_wh in conn.execute(query):
            by_session[session_pk].append(gateway.MeterReading(timestamp=timestamp, energy_wh=energy_wh))
    items = [gateway.SessionWithReadings(**_session_fields(row), readings=by_session[row["pk"]]) for row in rows]
    return gateway.SessionWithReadingsPage(items=items, next_cursor=next_cursor)


def _page_rows(
    conn: Connection,
    *,
    charge_point_id: str | None,
    id_tag: str | Collection[str] | None,
    started_from: datetime | None,
    started_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[RowMapping], str | None]:
    """The rows of one page in the order (started_at, id), and the cursor to the next page (None at the end)."""
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise errors.InvalidPageLimitError(f"limit must be between 1 and {MAX_PAGE_LIMIT}, not {limit}.", limit=limit)
    s = tables.sessions.c
    query: Select[tuple[object, ...]] = select(tables.sessions)
    if charge_point_id is not None:
        query = query.where(s.charge_point_id == charge_point_id)
    if isinstance(id_tag, str):
        query = query.where(s.id_tag == id_tag)
    elif id_tag is not None:
        query = query.where(s.id_tag.in_(sorted(set(id_tag))))
    if started_from is not None:
        query = query.where(s.started_at >= started_from)
    if started_to is not None:
        query = query.where(s.started_at < started_to)
    if cursor is not None:
        after_started, after_id = decode_cursor(cursor)
        query = query.where(tuple_(s.started_at, s.id) > tuple_(after_started, after_id))
    # One row beyond the page tells whether another page follows, without a COUNT.
    query = query.order_by(s.started_at, s.id).limit(limit + 1)
    rows = conn.execute(query).mappings().all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last["started_at"], last["id"])


def readings(_db: database.Database, conn: Connection, session_id: str) -> list[gateway.MeterReading]:
    """The energy register readings of one session in time order; empty for an unknown session."""
    r = tables.meter_readings.c
    query = (
        select(r.timestamp, r.energy_wh)
        .join(tables.sessions, tables.sessions.c.pk == r.session_pk)
        .where(tables.sessions.c.id == session_id)
        .order_by(r.timestamp)
    )
    rows: Sequence[RowMapping] = conn.execute(query).mappings().all()
    return [gateway.MeterReading(timestamp=row["timestamp"], energy_wh=row["energy_wh"]) for row in rows]


def lock_by_pk(db: database.Database) -> Select[Any]:
    """A session row by its key (parameter ``b_pk``), locked until commit; for ``Database.statement``."""
    return db.lock_rows(select(tables.sessions).where(tables.sessions.c.pk == bindparam("b_pk")))


def update_by_pk(_db: database.Database) -> Update:
    """An UPDATE of one session (parameter ``b_pk``) whose SET columns are the other parameters' keys."""
    return update(tables.sessions).where(tables.sessions.c.pk == bindparam("b_pk"))


def encode_cursor(started_at: datetime, session_id: str) -> str:
    """An opaque cursor that continues after the session ``session_id`` started at ``started_at``, URL-safe."""
    key = json.dumps([started_at.isoformat(), session_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (started_at, id) inside a cursor made by ``encode_cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        started, session_id = json.loads(raw)
        started_at = datetime.fromisoformat(started)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise errors.InvalidCursorError(f"{cursor!r} is not a cursor from a previous page.") from error
    if started_at.tzinfo is None or not isinstance(session_id, str):
        raise errors.InvalidCursorError(f"{cursor!r} is not a cursor from a previous page.")
    return started_at, session_id

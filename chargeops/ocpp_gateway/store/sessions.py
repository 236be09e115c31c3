"""Reading sessions back: one by id, pages for the control API, and a session's meter readings.

``Store`` calls these; ``transactions`` and ``events`` use ``to_session`` to answer with the stored row.
Pages are keyset-paginated in the order (started_at, id): the cursor carries the last row's key, so a
page never repeats or skips a session when new ones arrive meanwhile (OFFSET would), and each page is
one index range scan however deep it is (one per id tag when several are asked for). A page with
readings (``page_with_readings``, the billing pass's listing) reads all of its sessions' readings in one
more query and is written as JSON by ``session_json``.
"""

import base64
import binascii
import functools
import json
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    RowMapping,
    Select,
    Update,
    bindparam,
    select,
    tuple_,
    update,
)

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import columns, database, errors, session_json, tables

MAX_PAGE_LIMIT = 1000
# What a page query selects: every column (``page``), or ``session_json.COLUMNS`` (``page_with_readings``).
_ALL_COLUMNS = "all"
_JSON_COLUMNS = "json"

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
    db: database.Database,
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
    rows, last = _page_rows(
        db,
        conn,
        charge_point_id=charge_point_id,
        id_tag=id_tag,
        started_from=started_from,
        started_to=started_to,
        cursor=cursor,
        limit=limit,
    )
    next_cursor = None if last is None else encode_cursor(last["started_at"], last["id"])
    return gateway.SessionPage(items=[to_session(row) for row in rows], next_cursor=next_cursor)


def page_with_readings(
    db: database.Database,
    conn: Connection,
    *,
    charge_point_id: str | None,
    id_tag: str | Collection[str] | None,
    started_from: datetime | None,
    started_to: datetime | None,
    cursor: str | None,
    limit: int,
    offsets: bool = False,
) -> str:
    """``page``, each session with its readings, as the JSON of a ``SessionWithReadingsPage`` (with
    ``offsets``, of a ``SessionWithReadingOffsetsPage``); the page's readings come in one more query, and
    both go from the rows to the text (``session_json``)."""
    rows, last = _page_rows(
        db,
        conn,
        _JSON_COLUMNS,
        charge_point_id=charge_point_id,
        id_tag=id_tag,
        started_from=started_from,
        started_to=started_to,
        cursor=cursor,
        limit=limit,
    )
    next_cursor = None if last is None else encode_cursor(session_json.started_at(last), last["id"])
    if offsets:
        pairs: dict[int, list[tuple[int, int]]] = {row["pk"]: [] for row in rows}
        for session_pk, at_us, energy_wh in _reading_micros_of_page(db, conn, rows):
            pairs[session_pk].append((at_us, energy_wh))
        return session_json.offsets_page(rows, pairs, next_cursor)
    by_session: dict[int, list[str]] = {row["pk"]: [] for row in rows}
    for session_pk, timestamp, energy_wh in _readings_of_page(db, conn, rows, _readings_of_sessions):
        by_session[session_pk].append(session_json.reading(timestamp, energy_wh))
    return session_json.page(rows, by_session, next_cursor)


def _readings_of_page(
    db: database.Database,
    conn: Connection,
    rows: Sequence[RowMapping],
    build: Callable[[database.Database], Select[Any]],
) -> Sequence[Any]:
    """The rows of the readings query ``build`` for the sessions of ``rows``."""
    if not rows:
        return ()
    return conn.execute(db.statement(build), {"p_sessions": [row["pk"] for row in rows]}).all()


def _reading_micros_of_page(db: database.Database, conn: Connection, rows: Sequence[RowMapping]) -> Sequence[Any]:
    """``_readings_of_page`` of ``_reading_micros_of_sessions``, as the driver's rows: three integers each,
    which need no conversion, while making SQLAlchemy's ``Row`` of each cost a third of reading it."""
    if not rows:
        return ()
    result = conn.execute(db.statement(_reading_micros_of_sessions), {"p_sessions": [row["pk"] for row in rows]})
    try:
        found: Sequence[Any] = result.cursor.fetchall()
    finally:
        result.close()
    return found


def _page_rows(
    db: database.Database,
    conn: Connection,
    selected: str = _ALL_COLUMNS,
    *,
    charge_point_id: str | None,
    id_tag: str | Collection[str] | None,
    started_from: datetime | None,
    started_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[RowMapping], RowMapping | None]:
    """The rows (``selected`` columns: ``_ALL_COLUMNS`` or ``_JSON_COLUMNS``) of one page in the order
    (started_at, id), and its last row when another page follows (None at the end)."""
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise errors.InvalidPageLimitError(f"limit must be between 1 and {MAX_PAGE_LIMIT}, not {limit}.", limit=limit)
    # One row beyond the page tells whether another page follows, without a COUNT.
    params: dict[str, Any] = {"p_limit": limit + 1}
    if charge_point_id is not None:
        params["p_charger"] = charge_point_id
    tags = None if id_tag is None else "one" if isinstance(id_tag, str) else "many"
    if isinstance(id_tag, str):
        params["p_tag"] = id_tag
    elif id_tag is not None:
        params["p_tags"] = sorted(set(id_tag))
    if started_from is not None:
        params["p_from"] = started_from
    if started_to is not None:
        params["p_to"] = started_to
    if cursor is not None:
        params["p_after_started"], params["p_after_id"] = decode_cursor(cursor)
    build = _page_query(
        selected,
        charger=charge_point_id is not None,
        tags=tags,
        started_from=started_from is not None,
        started_to=started_to is not None,
        after=cursor is not None,
    )
    rows = conn.execute(db.statement(build), params).mappings().all()
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], rows[limit - 1]


@functools.cache
def _page_query(
    selected: str, *, charger: bool, tags: str | None, started_from: bool, started_to: bool, after: bool
) -> Callable[[database.Database], Select[Any]]:
    """The builder of the page query with these filters, its values as parameters: the same builder for
    the same filters, so ``Database.statement`` builds each query once (the billing pass lists sessions
    once per subscription)."""

    def build(_db: database.Database) -> Select[Any]:
        s = tables.sessions.c
        query: Select[Any] = select(tables.sessions) if selected == _ALL_COLUMNS else select(*session_json.COLUMNS)
        if charger:
            query = query.where(s.charge_point_id == bindparam("p_charger"))
        if tags == "one":
            query = query.where(s.id_tag == bindparam("p_tag"))
        elif tags == "many":
            query = query.where(s.id_tag.in_(bindparam("p_tags", expanding=True)))
        if started_from:
            query = query.where(s.started_at >= bindparam("p_from"))
        if started_to:
            query = query.where(s.started_at < bindparam("p_to"))
        if after:
            after_key = tuple_(
                bindparam("p_after_started", type_=s.started_at.type), bindparam("p_after_id", type_=s.id.type)
            )
            query = query.where(tuple_(s.started_at, s.id) > after_key)
        return query.order_by(s.started_at, s.id).limit(bindparam("p_limit", type_=Integer()))

    return build


def _readings_of_sessions(_db: database.Database) -> Select[Any]:
    """The readings of the sessions whose keys are ``p_sessions``, by session and time, timestamps as text."""
    return _readings_query(columns.utc_text(tables.meter_readings.c.timestamp))


def _reading_micros_of_sessions(_db: database.Database) -> Select[Any]:
    """``_readings_of_sessions`` with the timestamps as microseconds since the epoch (``utc_micros``)."""
    return _readings_query(session_json.utc_micros(tables.meter_readings.c.timestamp))


def _readings_query(timestamp: ColumnElement[Any]) -> Select[Any]:
    r = tables.meter_readings.c
    return (
        select(r.session_pk, timestamp, r.energy_wh)
        .where(r.session_pk.in_(bindparam("p_sessions", expanding=True)))
        .order_by(r.session_pk, r.timestamp)
    )


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

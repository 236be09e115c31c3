"""OCPP 1.6 transactions (StartTransaction, StopTransaction) and meter values of either version.

``Store`` calls these inside one write transaction each. The hot path is one statement in the usual
case: a start is ``INSERT … ON CONFLICT DO NOTHING RETURNING``, a stop ``UPDATE … RETURNING``; only a
retry or an unknown id costs a second look-up. MeterValues on PostgreSQL is one statement too (finding
the session, keeping the message, adding the readings, in data-modifying CTEs); on SQLite, whose round
trips cost no network, it is three. The statements are built once per database
(``Database.statement``) and executed with parameters. Retries are recognised by unique keys (``tables``),
which also settles two replicas racing on the same message: PostgreSQL makes the second insert wait for
the first one's commit and then do nothing.
"""

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    DateTime,
    Insert,
    Integer,
    RowMapping,
    Select,
    String,
    TextClause,
    Update,
    bindparam,
    insert,
    select,
    text,
    update,
)

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import database, outcomes, readings, sessions, tables
from chargeops.ocpp_gateway.store.columns import UtcDateTime

_S = tables.sessions.c
_FLAG_COLUMNS = [column for column, _ in sessions.FLAG_COLUMNS]

# 1.6 transaction ids are the sessions' BIGINT keys.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def start(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    *,
    connector_id: int,
    id_tag: str,
    meter_start_wh: int,
    timestamp: datetime,
    flags: Collection[gateway.SessionFlag],
    now: datetime,
) -> outcomes.StartOutcome:
    """Store a StartTransaction, or find the one it repeats; see ``Store.start_transaction``."""
    key = {
        "charge_point_id": cp_id,
        "connector_id": connector_id,
        "id_tag": id_tag,
        "started_at": timestamp,
        "meter_start_wh": meter_start_wh,
    }
    flagged = {sessions.FLAG_COLUMN_BY_FLAG[flag] for flag in flags}
    row = {
        **key,
        "id": str(uuid.uuid4()),
        "charger_transaction_id": None,
        "start_seen": True,
        "updated_at": now,
        **{column: column in flagged for column in _FLAG_COLUMNS},
    }
    inserted = conn.execute(db.statement(_insert_start), row).first()
    if inserted is not None:
        return outcomes.StartOutcome(transaction_id=inserted.pk, session_id=inserted.id, duplicate=False)
    # The charger retried a start whose answer it never got: answer with the same transaction.
    existing = (conn.execute(db.statement(_find_start), {f"k_{name}": value for name, value in key.items()})).one()
    return outcomes.StartOutcome(transaction_id=existing.pk, session_id=existing.id, duplicate=True)


def stop(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    transaction_id: int,
    *,
    meter_stop_wh: int,
    timestamp: datetime,
    reason: str | None,
    id_tag: str | None,
    transaction_data: Sequence[Mapping[str, Any]],
    stop_readings: Sequence[tuple[datetime, int]],
    now: datetime,
) -> outcomes.StopOutcome:
    """Close the session once and keep the raw stop; see ``Store.stop_transaction``."""
    closing = {
        "b_pk": transaction_id,
        "b_cp": cp_id,
        "b_stopped_at": timestamp,
        "b_meter_stop": meter_stop_wh,
        "b_reason": reason,
        "b_now": now,
    }
    closed = conn.execute(db.statement(_close), closing).mappings().first()
    session_row = closed
    if closed is None:
        session_row = conn.execute(db.statement(_find_own), {"b_pk": transaction_id, "b_cp": cp_id}).mappings().first()
    # Every distinct stop is kept, linked to its session or as an orphan (an unknown id) for review.
    record = {
        "charge_point_id": cp_id,
        "transaction_id": transaction_id,
        "session_pk": None if session_row is None else session_row["pk"],
        "id_tag": id_tag,
        "timestamp": timestamp,
        "meter_stop_wh": meter_stop_wh,
        "reason": reason,
        "transaction_data": [dict(value) for value in transaction_data],
        "received_at": now,
    }
    conn.execute(db.statement(_insert_stop_record), record)
    if session_row is None:
        return outcomes.StopOutcome(session=None, duplicate=False, unknown=True)
    if closed is None:
        return outcomes.StopOutcome(session=sessions.to_session(session_row), duplicate=True, unknown=False)
    if stop_readings:
        readings.insert(db, conn, closed["pk"], stop_readings)
    return outcomes.StopOutcome(session=sessions.to_session(closed), duplicate=False, unknown=False)


def add_meter_values(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    *,
    connector_id: int,
    transaction_id: str | None,
    new_readings: Sequence[tuple[datetime, int]],
    raw: Sequence[Mapping[str, Any]],
    now: datetime,
) -> int:
    """Add readings to the session of ``transaction_id`` and keep ``raw``; see ``Store.add_meter_values``."""
    if db.dialect == "postgresql" and transaction_id is not None and raw:
        session_row, added = _add_at_once(
            db,
            conn,
            cp_id,
            connector_id=connector_id,
            transaction_id=transaction_id,
            new_readings=new_readings,
            raw=raw,
            now=now,
        )
    else:
        session_row, added = _add_in_steps(
            db,
            conn,
            cp_id,
            connector_id=connector_id,
            transaction_id=transaction_id,
            new_readings=new_readings,
            raw=raw,
            now=now,
        )
    if (
        added
        and session_row is not None
        and (session_row["flag_estimated_start"] or session_row["flag_estimated_stop"])
    ):
        # A 2.0.1 session whose meter values are estimates: lock it, then follow the new readings.
        locked = conn.execute(db.statement(sessions.lock_by_pk), {"b_pk": session_row["pk"]}).mappings().one()
        changes = readings.settle(db, conn, dict(locked))
        if changes:
            conn.execute(db.statement(sessions.update_by_pk), {"b_pk": locked["pk"], **changes, "updated_at": now})
    return added


def _add_at_once(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    *,
    connector_id: int,
    transaction_id: str,
    new_readings: Sequence[tuple[datetime, int]],
    raw: Sequence[Mapping[str, Any]],
    now: datetime,
) -> tuple[RowMapping | None, int]:
    """PostgreSQL: the session found (pk and estimate flags) and the readings added, in one statement."""
    by_time = readings.unique(new_readings)
    params = {
        "b_cp": cp_id,
        "b_tx": transaction_id,
        "b_pk": _ocpp16_key(transaction_id),
        "b_connector": connector_id,
        "b_raw": [dict(value) for value in raw],
        "b_now": now,
        "b_times": [timestamp.astimezone(UTC) for timestamp in by_time],
        "b_energies": list(by_time.values()),
    }
    row = conn.execute(db.statement(_meter_values_at_once), params).mappings().one()
    return (None if row["pk"] is None else row), int(row["added"])


def _add_in_steps(
    db: database.Database,
    conn: Connection,
    cp_id: str,
    *,
    connector_id: int,
    transaction_id: str | None,
    new_readings: Sequence[tuple[datetime, int]],
    raw: Sequence[Mapping[str, Any]],
    now: datetime,
) -> tuple[RowMapping | None, int]:
    """The session found and the readings added: a look-up, then the message kept, then the readings."""
    session_row = None if transaction_id is None else find_session(db, conn, cp_id, transaction_id)
    if raw:
        batch = {
            "charge_point_id": cp_id,
            "connector_id": connector_id,
            "transaction_id": transaction_id,
            "session_pk": None if session_row is None else session_row["pk"],
            "meter_values": [dict(value) for value in raw],
            "received_at": now,
        }
        conn.execute(db.statement(_insert_meter_values), batch)
    if session_row is None or not new_readings:
        return session_row, 0
    return session_row, readings.insert(db, conn, session_row["pk"], new_readings)


def find_session(db: database.Database, conn: Connection, cp_id: str, transaction_id: str) -> RowMapping | None:
    """This charger's session with OCPP transaction id ``transaction_id`` (1.6: the row key as text)."""
    params: dict[str, object] = {"b_cp": cp_id, "b_tx": transaction_id}
    as_key = _ocpp16_key(transaction_id)
    if as_key is None:
        query = db.statement(_find_charger_transaction)
    else:
        query = db.statement(_find_either_transaction)
        params["b_pk"] = as_key
    row: RowMapping | None = conn.execute(query, params).mappings().first()
    return row


def _ocpp16_key(transaction_id: str) -> int | None:
    """``transaction_id`` as a 1.6 row key, if it is a decimal integer in range; else None."""
    if not transaction_id.isascii() or not transaction_id.lstrip("-").isdigit():
        return None
    value = int(transaction_id)
    return value if INT64_MIN <= value <= INT64_MAX else None


# The statements, built once per database by ``Database.statement``. ---------------------------------


def _insert_start(db: database.Database) -> Insert:
    return (
        db.insert(tables.sessions)
        .on_conflict_do_nothing(index_elements=list(tables.OCPP16_START_KEY), index_where=tables.OCPP16_ONLY)
        .returning(_S.pk, _S.id)
    )


def _find_start(_db: database.Database) -> Select[Any]:
    return select(_S.pk, _S.id).where(
        tables.OCPP16_ONLY, *(_S[name] == bindparam(f"k_{name}") for name in tables.OCPP16_START_KEY)
    )


def _close(_db: database.Database) -> Update:
    meter_stop = bindparam("b_meter_stop", type_=BigInteger())
    return (
        update(tables.sessions)
        .where(
            _S.pk == bindparam("b_pk"),
            _S.charge_point_id == bindparam("b_cp"),
            tables.OCPP16_ONLY,
            # Only an open session closes: a retried stop finds it closed and changes nothing.
            _S.stopped_at.is_(None),
        )
        .values(
            stopped_at=bindparam("b_stopped_at"),
            meter_stop_wh=meter_stop,
            energy_wh=meter_stop - _S.meter_start_wh,
            stop_reason=bindparam("b_reason"),
            # Kept as reported, and flagged: a meter replaced or reset mid-session needs a person.
            flag_negative_energy=_S.meter_start_wh > meter_stop,
            updated_at=bindparam("b_now"),
        )
        .returning(*tables.sessions.c)
    )


def _find_own(_db: database.Database) -> Select[Any]:
    return select(tables.sessions).where(
        _S.pk == bindparam("b_pk"), _S.charge_point_id == bindparam("b_cp"), tables.OCPP16_ONLY
    )


def _insert_stop_record(db: database.Database) -> Insert:
    return db.insert(tables.stop_transactions).on_conflict_do_nothing(index_elements=list(tables.STOP_KEY))


def _insert_meter_values(_db: database.Database) -> Insert:
    return insert(tables.meter_value_batches)


def _meter_values_at_once(_db: database.Database) -> TextClause:
    # PostgreSQL runs every data-modifying CTE to completion, whether the final SELECT reads it or not.
    # ``found`` matches as ``_find_either_transaction`` does (``b_pk`` NULL: a 2.0.1 id, matched by text).
    return text(
        """
        WITH found AS (
            SELECT pk, flag_estimated_start, flag_estimated_stop FROM sessions
            WHERE charge_point_id = :b_cp
              AND (charger_transaction_id = :b_tx OR (charger_transaction_id IS NULL AND pk = :b_pk))
            ORDER BY charger_transaction_id IS NULL
            LIMIT 1
        ), kept AS (
            INSERT INTO meter_value_batches
                (charge_point_id, connector_id, transaction_id, session_pk, meter_values, received_at)
            VALUES (:b_cp, :b_connector, :b_tx, (SELECT pk FROM found), :b_raw, :b_now)
        ), added AS (
            INSERT INTO meter_readings (session_pk, timestamp, energy_wh)
            SELECT found.pk, reading.at, reading.wh
            FROM found, unnest(:b_times, :b_energies) AS reading(at, wh)
            ON CONFLICT (session_pk, timestamp) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT pk FROM found) AS pk,
               (SELECT flag_estimated_start FROM found) AS flag_estimated_start,
               (SELECT flag_estimated_stop FROM found) AS flag_estimated_stop,
               (SELECT count(*) FROM added) AS added
        """
    ).bindparams(
        bindparam("b_cp", type_=String()),
        bindparam("b_tx", type_=String()),
        bindparam("b_pk", type_=BigInteger()),
        bindparam("b_connector", type_=Integer()),
        bindparam("b_raw", type_=tables.meter_value_batches.c.meter_values.type),
        bindparam("b_now", type_=UtcDateTime()),
        bindparam("b_times", type_=ARRAY(DateTime(timezone=True))),
        bindparam("b_energies", type_=ARRAY(BigInteger())),
    )


def _find_charger_transaction(_db: database.Database) -> Select[Any]:
    return select(tables.sessions).where(
        _S.charge_point_id == bindparam("b_cp"), _S.charger_transaction_id == bindparam("b_tx")
    )


def _find_either_transaction(_db: database.Database) -> Select[Any]:
    matches = (_S.charger_transaction_id == bindparam("b_tx")) | (tables.OCPP16_ONLY & (_S.pk == bindparam("b_pk")))
    # A charger moved from 2.0.1 to 1.6 could match both ways; its own 2.0.1 id is the better match.
    return (
        select(tables.sessions)
        .where(_S.charge_point_id == bindparam("b_cp"), matches)
        .order_by(_S.charger_transaction_id.is_(None))
        .limit(1)
    )

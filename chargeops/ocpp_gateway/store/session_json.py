"""Sessions with their readings as JSON, written straight from the rows: the billing pass's bulk listing.

``sessions.page_with_readings`` selects ``COLUMNS`` (times as the database's UTC text, ``columns.utc_text``)
and the page's readings, and ``page`` writes the JSON of a ``gateway.SessionWithReadingsPage`` from them
(``offsets_page``: of a ``gateway.SessionWithReadingOffsetsPage``, the readings as two integer columns).
A billing pass lists a month of sessions, each with about ten readings: making a datetime and a pydantic
model of each of them, to serialize it again at once, cost the gateway more than the queries themselves
(``bench/billing_run.py``). The text is what pydantic writes for the same models, byte for byte; a test
holds the two together (``tests/unit/ocpp_gateway/store/test_session_json.py``).
"""

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, RowMapping
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from chargeops.api import gateway
from chargeops.ocpp_gateway.store import columns, tables


class utc_micros(FunctionElement[int]):  # noqa: N801 - named like the SQL functions it stands for
    """A ``UtcDateTime`` column as whole microseconds since the Unix epoch, worked out by the database: the
    readings' offsets from their session's start (``offsets_page``) are then integer subtractions."""

    type = BigInteger()
    name = "utc_micros"
    inherit_cache = True


@compiles(utc_micros, "sqlite")
def _utc_micros_sqlite(element: utc_micros, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as UTC text with six decimals (``columns.UtcDateTime``): whole seconds, then the decimals.
    # unixepoch() (SQLite 3.38) reads the seconds for a fifth less than strftime('%s'), once per reading.
    column = compiler.process(element.clauses, **kw)
    seconds = f"unixepoch({column})" if _HAS_UNIXEPOCH else f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"({seconds} * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


_HAS_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38)


@compiles(utc_micros, "postgresql")
def _utc_micros_postgresql(element: utc_micros, compiler: SQLCompiler, **kw: Any) -> str:
    # extract() is exact (numeric) since PostgreSQL 14; round() absorbs a double's last bit before that.
    return f"CAST(round(extract(epoch from {compiler.process(element.clauses, **kw)}) * 1000000) AS BIGINT)"


_s = tables.sessions.c

# The flag columns and the JSON of each flag, in the order they are reported (as ``sessions.FLAG_COLUMNS``).
FLAGS = (
    ("flag_estimated_start", json.dumps(gateway.SessionFlag.ESTIMATED_START.value)),
    ("flag_estimated_stop", json.dumps(gateway.SessionFlag.ESTIMATED_STOP.value)),
    ("flag_negative_energy", json.dumps(gateway.SessionFlag.NEGATIVE_ENERGY.value)),
    ("flag_delivered_late", json.dumps(gateway.SessionFlag.DELIVERED_LATE.value)),
    ("flag_unknown_id_tag", json.dumps(gateway.SessionFlag.UNKNOWN_ID_TAG.value)),
)

COLUMNS: tuple[ColumnElement[Any], ...] = (
    _s.pk,
    _s.id,
    _s.charge_point_id,
    _s.connector_id,
    _s.charger_transaction_id,
    _s.id_tag,
    columns.utc_text(_s.started_at).label("started_at"),
    columns.utc_text(_s.stopped_at).label("stopped_at"),
    _s.meter_start_wh,
    _s.meter_stop_wh,
    _s.energy_wh,
    _s.stop_reason,
    *(_s[column] for column, _ in FLAGS),
    columns.utc_text(_s.updated_at).label("updated_at"),
    utc_micros(_s.started_at).label("started_us"),
)

# MeterReading's JSON, field for field.
_READING = '{"timestamp":"%s","energyWh":%d}'


def reading(timestamp: str, energy_wh: int) -> str:
    """The JSON of one ``MeterReading`` from its ``utc_text`` timestamp."""
    return _READING % (_time(timestamp), energy_wh)


def page(rows: Sequence[RowMapping], readings: Mapping[int, Iterable[str]], next_cursor: str | None) -> str:
    """The JSON of a ``SessionWithReadingsPage``: ``rows`` of ``COLUMNS`` with ``readings`` (JSON texts by
    session key) and the cursor."""
    items = ",".join(_session(row, '"readings":[' + ",".join(readings.get(row["pk"], ())) + "]") for row in rows)
    return '{"items":[' + items + '],"nextCursor":' + _string_or_null(next_cursor) + "}"


def offsets_page(
    rows: Sequence[RowMapping], readings: Mapping[int, Sequence[tuple[int, int]]], next_cursor: str | None
) -> str:
    """The JSON of a ``SessionWithReadingOffsetsPage``: ``rows`` of ``COLUMNS`` with ``readings`` ((``utc_micros``
    timestamp, Wh) pairs by session key, in time order) and the cursor."""
    items = ",".join(_session(row, _offsets(row["started_us"], readings.get(row["pk"], ()))) for row in rows)
    return '{"items":[' + items + '],"nextCursor":' + _string_or_null(next_cursor) + "}"


def _offsets(started_us: int, readings: Sequence[tuple[int, int]]) -> str:
    offsets = ",".join([str(at_us - started_us) for at_us, _ in readings])
    energies = ",".join([str(energy_wh) for _, energy_wh in readings])
    return '"readingOffsetsUs":[' + offsets + '],"readingEnergiesWh":[' + energies + "]"


def started_at(row: RowMapping) -> datetime:
    """The start of a row of ``COLUMNS`` as a datetime (for the page's cursor)."""
    return datetime.fromisoformat(row["started_at"]).replace(tzinfo=UTC)


def _session(row: RowMapping, readings: str) -> str:
    # Session's fields in declaration order, then the readings' own (``readings``: their JSON members).
    flags = [name for column, name in FLAGS if row[column]]
    return "".join(
        (
            '{"id":',
            _string(row["id"]),
            ',"chargePointId":',
            _string(row["charge_point_id"]),
            ',"connectorId":',
            str(row["connector_id"]),
            ',"transactionId":',
            # OCPP 1.6 transactionIds are the row's key; 2.0.1 ones are the charger's (as ``sessions.to_session``).
            _string(row["charger_transaction_id"] or str(row["pk"])),
            ',"idTag":',
            _string_or_null(row["id_tag"]),
            ',"startedAt":"',
            _time(row["started_at"]),
            '","stoppedAt":',
            "null" if row["stopped_at"] is None else '"' + _time(row["stopped_at"]) + '"',
            ',"meterStartWh":',
            str(row["meter_start_wh"]),
            ',"meterStopWh":',
            _int_or_null(row["meter_stop_wh"]),
            ',"energyWh":',
            _int_or_null(row["energy_wh"]),
            ',"stopReason":',
            _string_or_null(row["stop_reason"]),
            ',"flags":[',
            ",".join(flags),
            '],"updatedAt":"',
            _time(row["updated_at"]),
            '",',
            readings,
            "}",
        )
    )


def _time(text: str) -> str:
    """``utc_text`` as pydantic writes a UTC datetime: ``Z``, and no fraction when it is zero."""
    return (text[:-7] if text.endswith(".000000") else text) + "Z"


# A JSON string as pydantic (serde_json) writes one: UTF-8 as is, quotes, backslashes and controls escaped;
# json.dumps(value, ensure_ascii=False) without its per-call set-up.
_string = encode_basestring


def _string_or_null(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _int_or_null(value: int | None) -> str:
    return "null" if value is None else str(value)

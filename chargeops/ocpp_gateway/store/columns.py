"""Column types the tables share: UTC timestamps and integer keys that work on SQLite and PostgreSQL.

``tables`` declares every column with these, so the rule "the store holds UTC, timezone-aware in
Python" lives in one place. SQLite has no timestamp type: SQLAlchemy keeps a datetime there as fixed-width
ISO text without an offset, which sorts correctly only if every value is UTC; hence the conversion on the
way in and the re-attached ``UTC`` on the way out. PostgreSQL gets ``timestamptz``.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; a naive one is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            # The Store checks its arguments first (NaiveTimestampError); reaching here is a bug.
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: the store keeps UTC")
        utc = value.astimezone(UTC)
        # SQLite compares the stored text: drop the offset so every value has the same fixed width.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def big_key() -> TypeEngine[int]:
    """A 64-bit integer key; on SQLite the ``INTEGER`` that makes a column the rowid and autoincrement."""
    return BigInteger().with_variant(Integer(), "sqlite")


class utc_text(FunctionElement[str]):  # noqa: N801 - named like the SQL functions it stands for
    """A ``UtcDateTime`` column as the database's own text, ``2026-10-01T00:15:00.000000`` (UTC, always six
    decimals, no offset), for answers that go out as JSON without becoming datetimes first."""

    type = String()
    name = "utc_text"
    inherit_cache = True


@compiles(utc_text, "sqlite")
def _utc_text_sqlite(element: utc_text, compiler: SQLCompiler, **kw: Any) -> str:
    # The stored text is already UTC with six decimals (``UtcDateTime``); only the separator differs.
    return f"replace({compiler.process(element.clauses, **kw)}, ' ', 'T')"


@compiles(utc_text, "postgresql")
def _utc_text_postgresql(element: utc_text, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"

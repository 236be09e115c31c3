"""What the store tests share besides fixtures: fixed instants, the type of the ``peek`` fixture, and a
recorder of the statements a PostgreSQL store sends."""

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, event

from chargeops.ocpp_gateway.store import Store

# A fixed instant, so tests state times as offsets from it; NOW is what they pass as ``now``.
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)

# Reads every row of one table, in key order, as dicts.
Peek = Callable[[Table], Awaitable[list[dict[str, Any]]]]


@contextlib.contextmanager
def first_words_sent(store: Store) -> Iterator[list[str]]:
    """The first word of every statement a PostgreSQL ``store`` sends meanwhile (``INSERT``, ``WITH``, …);
    BEGIN and COMMIT are not cursor statements and do not show."""
    engine = store._db._async_engine
    assert engine is not None, "a PostgreSQL store"
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split(maxsplit=1)[0])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

"""What the store tests share besides fixtures: fixed instants and the type of the ``peek`` fixture."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table

# A fixed instant, so tests state times as offsets from it; NOW is what they pass as ``now``.
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 2, 12, 0, tzinfo=UTC)

# Reads every row of one table, in key order, as dicts.
Peek = Callable[[Table], Awaitable[list[dict[str, Any]]]]

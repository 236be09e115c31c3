"""The operator's one source of the time of day, so tests and the demo can move it.

Handlers and the billing pass ask ``Runtime.clock.now()`` instead of the system clock. ``chargeops demo``
and tests hand the operator the same clock the simulated chargers run on (any object with ``now()``,
e.g. the simulator's ``ScaledClock``), so a simulated month closes and is invoiced in seconds without
anything sleeping. Timers still tick in real time: the clock says what time it is, not how long to wait.
"""

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where the operator reads the time."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """Real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """Real time shifted by an offset that can be moved forward (``chargeops operator --clock-offset``)."""

    def __init__(self, offset: timedelta = timedelta()) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, by: timedelta) -> None:
        """Move the clock forward by ``by``."""
        if by < timedelta():
            raise ValueError(f"the clock only moves forward, not by {by}")
        self.offset += by

"""The simulated chargers' sense of time: every OCPP timestamp and every interval wait goes through a ``Clock``.

A month of charging takes a month on a wall clock. To test billing and the gateway's store on a month of
sessions in seconds, a station reads ``now()`` and waits with ``sleep()`` on a clock that may run faster than
real time:

- ``SystemClock`` is real time (``chargeops simulate --clock-speed 1``).
- ``ScaledClock(speed, start=…)`` starts at ``start`` and runs ``speed`` times faster: with ``speed=3600`` an
  hour of simulated charging (its sessions, MeterValues every ``MeterValueSampleInterval``, idle Heartbeats)
  passes in one real second. Timestamps in StartTransaction, MeterValues and TransactionEvent come from it,
  so the gateway stores sessions spread over the simulated month.
- ``ManualClock`` stands still until a test calls ``advance()``: unit tests step through sessions exactly.

What stays in real time: websocket timeouts, the reconnect backoff and ``--duration`` of a run, because those
are about the network and the machine, not about the chargers' day. The central system's clock is its own;
at high speeds its receive times and our timestamps part ways, as they would for a charger with a bad RTC.
"""

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where a station gets the time and how it waits."""

    def now(self) -> datetime:
        """The current simulated time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` of simulated time have passed."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class ScaledClock:
    """Simulated time that starts at ``start`` and runs ``speed`` times faster than the wall clock."""

    def __init__(self, speed: float = 1.0, *, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.speed = speed
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.speed)


class ManualClock:
    """A clock that moves only when told to; sleepers wake when ``advance()`` passes their deadline."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)
        # (deadline, tie-breaker, future): the counter keeps futures, which do not compare, out of the ordering.
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), next(self._counter), waiter))
        await waiter

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper due on the way in deadline order."""
        await _let_others_run()  # tasks started just before get to register their sleeps first
        target = self._now + timedelta(seconds=seconds)
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, waiter = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not waiter.done():
                waiter.set_result(None)
            # Let the woken task run (and perhaps sleep again) before the next deadline is considered.
            await _let_others_run()
        self._now = target


async def _let_others_run() -> None:
    # A few loop turns: enough for a woken task to finish a step that awaits nothing slow.
    for _ in range(5):
        await asyncio.sleep(0)


def timestamp(moment: datetime) -> str:
    """An OCPP dateTime: ISO 8601 in UTC with milliseconds and ``Z``, the form both 1.6 and 2.0.1 recommend."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

"""A few threads for scrypt, and a queue that knows how long it is.

``credentials.PasswordChecker`` runs every password hash and check here. scrypt is tens of milliseconds
of CPU and releases the GIL, so one thread per core keeps every core busy and no more: a larger pool
(``asyncio.to_thread`` has min(32, cores + 4) threads) only makes each scrypt slower while they share
the cores. What cannot start at once waits in the pool's queue, and the pool can say how long a job
queued now would take, from the durations of the last scrypt runs; the checker refuses work the
charger would no longer be waiting for when it finished.
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import os
import statistics
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Recent scrypt durations kept: enough for a steady median, few enough to follow a change of load.
_SAMPLES = 64
# What one scrypt takes before any has been timed in this process: the N=2**14, r=8 hash measured on
# one core here (``passwords``). Only the first estimates use it; real durations replace it.
FIRST_GUESS_S = 0.05


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ExpiredError(Exception):
    """A job that was still queued at its deadline: nobody waits for its answer any more."""


class ScryptPool:
    """One thread per core for scrypt, with the queue's expected wait."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="chargeops-scrypt"
        )
        self._pending = 0  # submitted and not finished; changed on the event loop only
        self._durations: collections.deque[float] = collections.deque(maxlen=_SAMPLES)

    @property
    def pending(self) -> int:
        """Jobs running or queued."""
        return self._pending

    def durations(self) -> list[float]:
        """The recent scrypt durations in seconds (empty before the first)."""
        return list(self._durations)

    def typical_s(self) -> float:
        """The median of the recent scrypt durations; ``FIRST_GUESS_S`` before the first."""
        return statistics.median(self._durations) if self._durations else FIRST_GUESS_S

    def queue_wait_s(self) -> float:
        """How long a job submitted now would wait before a thread takes it."""
        return (self._pending // self.workers) * self.typical_s()

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a pool thread, timed; see ``run_before`` for a deadline."""
        return await self.run_before(None, fn, *args, **kwargs)

    async def run_before(self, deadline: float | None, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a pool thread, unless it is still queued at ``deadline``
        (``time.monotonic()``): then raise ``ExpiredError`` without running it."""
        loop = asyncio.get_running_loop()

        def job() -> T:
            if deadline is not None and time.monotonic() > deadline:
                raise ExpiredError
            started = time.perf_counter()
            result = fn(*args, **kwargs)
            self._durations.append(time.perf_counter() - started)  # deque.append is thread-safe
            return result

        future = self._executor.submit(job)
        self._pending += 1
        # Counted down when the job ends, not when its waiter stops waiting (a cancelled waiter leaves
        # a running job behind, still holding its core).
        future.add_done_callback(lambda _: self._count_down(loop))
        return await asyncio.wrap_future(future)

    def _count_down(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed first (shutdown): nobody counts any more
            loop.call_soon_threadsafe(self._finished)

    def _finished(self) -> None:
        self._pending -= 1

    def close(self) -> None:
        """Drop queued jobs (their waiters get ``CancelledError``); running ones finish on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)

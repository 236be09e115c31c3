"""The gateway's observed state of every charger, read in one request per interval and kept in memory.

One ``Observations`` lives in the operator's ``Runtime``; the start-up handler starts its polling task and
the clean-up handler stops it. The Charger timer and handlers read a charger's state from here, so N
Chargers cost one ``GET /v1/chargers`` per interval instead of N requests.

A poll that fails is not an outage yet: a gateway busy with thousands of connecting chargers answers late
now and then, and a Ready fleet should not flap for that. The gateway counts as unreachable once polls
have failed ``OUTAGE_POLLS`` times in a row or for ``OUTAGE_S`` seconds, whichever comes first; until
then the last answer stands.

Each Charger's timer waits in ``next_change`` until a poll finds its charger changed (anything but
``last_seen``, which moves with every message), so status follows the charger within a poll rather than
a poll plus a timer interval. Polls come every ``BUSY_POLL_S`` for ``BUSY_WINDOW_S`` after the operator
handed the gateway something new (``expect_changes``): the chargers converge, connect and log in then,
and a fleet that changes nothing is polled at the full interval.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from chargeops.api.gateway import ObservedState
from chargeops.operator.errors import OperatorError

# Failed polls in a row after which the gateway counts as unreachable: one slow answer is a busy gateway.
OUTAGE_POLLS = 3
# ... or this long since the first of them, when the interval is long.
OUTAGE_S = 60.0
# The least pause between two polls, as a share of the interval, when a poll takes longer than the interval.
MIN_PAUSE_SHARE = 0.1
# Poll this often (at most; never more often than the interval) while chargers are expected to change ...
BUSY_POLL_S = 3.0
# ... that is, this long after the operator last handed the gateway a desired state.
BUSY_WINDOW_S = 60.0


class Source(Protocol):
    """Where the observed states come from: ``GatewayClient``."""

    async def all_observed(self) -> list[ObservedState]:
        """Every charger's observed state; ``OperatorError`` when the gateway does not give it."""
        ...


class Observations:
    """The last ``GET /v1/chargers`` answer by charge point id, and how the polls have been going."""

    def __init__(self, gateway: Source, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._gateway = gateway
        self._clock = clock
        self._states: dict[str, ObservedState] = {}
        # States read on their own (``remember``), by when they were read: newer than a poll that started
        # before, so that poll does not put an older state back.
        self._fresh: dict[str, tuple[float, ObservedState]] = {}
        self.polled_at: float | None = None
        """When the last poll that succeeded ended (``clock`` time); None before the first."""
        self.failures = 0
        """Polls failed in a row since the last success."""
        self.error: OperatorError | None = None
        """Why the last poll failed, while polls fail."""
        self._failing_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        # Set when a charger's state changed since its timer last looked; created set, so the first look
        # is at once.
        self._changes: dict[str, asyncio.Event] = {}
        self._busy_until = float("-inf")

    def get(self, cp_id: str) -> ObservedState | None:
        """What the last answer said of ``cp_id`` (an empty state for a charger the gateway has not seen);
        None before any poll succeeded."""
        if self.polled_at is None:
            return None
        found = self._states.get(cp_id)
        return found if found is not None else ObservedState(charge_point_id=cp_id)

    def outage(self) -> OperatorError | None:
        """Why the gateway counts as unreachable, once polls have failed long enough; else None."""
        if self.error is None or self._failing_since is None:
            return None
        if self.failures >= OUTAGE_POLLS or self._clock() - self._failing_since >= OUTAGE_S:
            return self.error
        return None

    def remember(self, observed: ObservedState) -> None:
        """Keep a state a handler read on its own (it is newer) until a poll that started later replaces it."""
        if self.polled_at is not None:
            self._states[observed.charge_point_id] = observed
            self._fresh[observed.charge_point_id] = (self._clock(), observed)

    async def next_change(self, cp_id: str, timeout_s: float) -> None:
        """Return once ``cp_id``'s state changed (or the gateway's reachability did) since the last return
        for it, or after ``timeout_s``."""
        event = self._changes.get(cp_id)
        if event is None:
            event = self._changes[cp_id] = asyncio.Event()
            event.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)
        event.clear()

    def forget(self, cp_id: str) -> None:
        """Stop tracking changes of ``cp_id`` (its Charger is gone)."""
        self._changes.pop(cp_id, None)

    def expect_changes(self) -> None:
        """Poll every ``BUSY_POLL_S`` for the next ``BUSY_WINDOW_S``: a desired state was handed over."""
        self._busy_until = self._clock() + BUSY_WINDOW_S

    def pause_s(self, interval_s: float, took_s: float) -> float:
        """How long to wait before the next poll, after one that took ``took_s``."""
        wanted = min(BUSY_POLL_S, interval_s) if self._clock() < self._busy_until else interval_s
        return max(wanted - took_s, wanted * MIN_PAUSE_SHARE)

    async def poll(self, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        """Read every charger's observed state once; a failure is logged and counted, never raised."""
        started = self._clock()
        try:
            states = await self._gateway.all_observed()
        except OperatorError as error:
            if self._failed(error, logger):
                self._signal(self._changes)  # every Charger shows the outage
            return
        was_out = self.outage() is not None
        if self.failures:
            logger.info("The gateway answers again, after %d failed polls.", self.failures)
        previous = self._states
        self._states = {state.charge_point_id: state for state in states}
        fresher = {cp_id: read for cp_id, read in self._fresh.items() if read[0] > started}
        self._states.update({cp_id: observed for cp_id, (_, observed) in fresher.items()})
        self._fresh = fresher
        self.polled_at = self._clock()
        self.failures, self.error, self._failing_since = 0, None, None
        changed = self._changes if was_out else (cp_id for cp_id in self._changes if self._changed(previous, cp_id))
        self._signal(changed)

    def _changed(self, previous: dict[str, ObservedState], cp_id: str) -> bool:
        before, now = previous.get(cp_id), self._states.get(cp_id)
        if before is None or now is None:
            return before is not now
        return before.model_copy(update={"last_seen": now.last_seen}) != now

    def _signal(self, cp_ids: Iterable[str]) -> None:
        for cp_id in list(cp_ids):
            self._changes[cp_id].set()

    def start(self, *, interval_s: float, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        """Poll every ``interval_s`` seconds until ``stop``."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(interval_s, logger), name="chargeops observations")

    async def stop(self) -> None:
        """Stop polling."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, interval_s: float, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        while True:
            started = self._clock()
            try:
                await self.poll(logger)
            except Exception:  # a bug must not end the polling, or every Charger's status would freeze
                logger.exception("Polling the gateway's observed states failed.")
            await asyncio.sleep(self.pause_s(interval_s, self._clock() - started))

    def _failed(self, error: OperatorError, logger: logging.Logger | logging.LoggerAdapter[Any]) -> bool:
        """Count a failed poll; True if the gateway counts as unreachable from this one on."""
        was_out = self.outage() is not None
        self.failures += 1
        self.error = error
        if self._failing_since is None:
            self._failing_since = self._clock()
        began = self.outage() is not None and not was_out
        if began:
            logger.warning("The gateway counts as unreachable after %d failed polls: %s", self.failures, error)
        else:
            logger.info("Polling the gateway failed (%d in a row): %s", self.failures, error)
        return began

"""The gateway's observed state of every charger, read in one request per interval and kept in memory.

One ``Observations`` lives in the operator's ``Runtime``; the start-up handler starts its polling task and
the clean-up handler stops it. The Charger timer and handlers read a charger's state from here, so N
Chargers cost one ``GET /v1/chargers`` per interval instead of N requests.

A poll that fails is not an outage yet: a gateway busy with thousands of connecting chargers answers late
now and then, and a Ready fleet should not flap for that. The gateway counts as unreachable once polls
have failed ``OUTAGE_POLLS`` times in a row or for ``OUTAGE_S`` seconds, whichever comes first; until
then the last answer stands.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from chargeops.api.gateway import ObservedState
from chargeops.operator.errors import OperatorError

# Failed polls in a row after which the gateway counts as unreachable: one slow answer is a busy gateway.
OUTAGE_POLLS = 3
# ... or this long since the first of them, when the interval is long.
OUTAGE_S = 60.0
# The least pause between two polls, as a share of the interval, when a poll takes longer than the interval.
MIN_PAUSE_SHARE = 0.1


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

    async def poll(self, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        """Read every charger's observed state once; a failure is logged and counted, never raised."""
        started = self._clock()
        try:
            states = await self._gateway.all_observed()
        except OperatorError as error:
            self._failed(error, logger)
            return
        if self.failures:
            logger.info("The gateway answers again, after %d failed polls.", self.failures)
        self._states = {state.charge_point_id: state for state in states}
        fresher = {cp_id: read for cp_id, read in self._fresh.items() if read[0] > started}
        self._states.update({cp_id: observed for cp_id, (_, observed) in fresher.items()})
        self._fresh = fresher
        self.polled_at = self._clock()
        self.failures, self.error, self._failing_since = 0, None, None

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
            took = self._clock() - started
            await asyncio.sleep(max(interval_s - took, interval_s * MIN_PAUSE_SHARE))

    def _failed(self, error: OperatorError, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
        was_out = self.outage() is not None
        self.failures += 1
        self.error = error
        if self._failing_since is None:
            self._failing_since = self._clock()
        if self.outage() is not None and not was_out:
            logger.warning("The gateway counts as unreachable after %d failed polls: %s", self.failures, error)
        else:
            logger.info("Polling the gateway failed (%d in a row): %s", self.failures, error)

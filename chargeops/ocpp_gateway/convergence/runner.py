"""Run convergence for one connected charger: once at a time, again when asked meanwhile, retried.

A ``ConvergenceRunner`` lives as long as the charger's connection. ``request()`` is cheap and safe to call
any number of times (on connect, on boot, on a desired-state change, from the drift timer): at most one
convergence runs, and one more follows if anything asked during it. A failure is recorded in the
observed state and retried with backoff while the charger stays connected; a charger that disconnects
is converged again when it returns (DESIGN.md invariant 6) — unless it returns already converged to its
desired state: then it is only checked for drift, within the drift interval (``start``).
"""

import asyncio
import contextlib
import secrets
from typing import Any

from websockets.exceptions import ConnectionClosed

from chargeops.api.gateway import ObservedState
from chargeops.api.v1alpha1 import OcppVersion
from chargeops.ocpp_gateway import metrics
from chargeops.ocpp_gateway.context import ChargerContext
from chargeops.ocpp_gateway.convergence import converge, dialects
from chargeops.ocpp_gateway.errors import GatewayError
from chargeops.ocpp_gateway.store import errors as store_errors

# OCPP 1.6 §4.2: a charger sends BootNotification first after connecting; configuring it before then
# races its own start-up. Chargers that reconnect without booting are converged after this wait.
BOOT_WAIT_S = 5.0
RETRY_BACKOFF_S = (5.0, 15.0, 60.0, 300.0)
# Each drift check waits the drift interval times a factor drawn from this range. With a fixed interval,
# the chargers that connected together were checked together ten minutes later, and again ten minutes
# after that: at 50,000 chargers the first such wave landed on connections still arriving, and the
# gateways' connect rate fell from 3,000 to 200 a minute as it did (two runs). Drawn anew each time, a
# wave spreads further out with every check; the mean stays the interval.
DRIFT_JITTER = (0.75, 1.25)


def drift_wait(interval_s: float) -> float:
    """How long until the next drift check: ``interval_s`` spread by ``DRIFT_JITTER``."""
    low, high = DRIFT_JITTER
    return interval_s * (low + (high - low) * secrets.randbelow(10_001) / 10_000)


class ConvergenceRunner:
    """Single-flight convergence of one charger."""

    def __init__(
        self, session: Any, ctx: ChargerContext, *, boot_wait_s: float = BOOT_WAIT_S, drift_interval_s: float = 600.0
    ) -> None:
        self.ctx = ctx
        self.dialect: dialects.Dialect = (
            dialects.V16(session) if ctx.ocpp_version is OcppVersion.V16 else dialects.V201(session)
        )
        self.boot_wait_s = boot_wait_s
        self.drift_interval_s = drift_interval_s
        self._wanted = asyncio.Event()
        self._first_wait_s: float | None = None
        self._observed: ObservedState | None = None  # for the first convergence, as read on connect
        self._task: asyncio.Task[None] | None = None
        self.converged = asyncio.Event()
        self.failures = 0

    def start(self, observed: ObservedState) -> None:
        """Begin: converge once after boot (or the boot wait), then whenever asked or on the drift timer.

        ``observed`` is the charger's observed state as its connection was recorded; the first
        convergence starts from it instead of reading it again. A charger already converged to its
        desired state (``converge.is_settled``) is not converged at once, as there is nothing to send:
        its first drift check comes at a random time within the drift interval, so that the chargers of
        a reconnect storm (a gateway restart) spread their checks instead of all asking at once.
        """
        if converge.is_settled(self.ctx.desired, observed):
            self._first_wait_s = self.drift_interval_s * secrets.randbelow(1000) / 1000
            self.converged.set()
        else:
            self._observed = observed
            self._wanted.set()
        self._task = asyncio.create_task(self._loop(), name=f"converge:{self.ctx.charge_point_id}")

    def request(self) -> None:
        """Ask for a convergence; coalesces with one already pending."""
        self.converged.clear()
        self._wanted.set()

    async def stop(self) -> None:
        """Cancel (on disconnect); the next connection starts afresh."""
        if self._task is not None:
            self._task.cancel()
            # A convergence that was sending when the charger left ends with ConnectionClosed; that is
            # the disconnect this stop is for, and it must not keep the session from being closed.
            try:
                await self._task
            except (asyncio.CancelledError, ConnectionClosed):
                pass
            except Exception:
                # A defect of ours: logged here, so that the disconnect is still recorded after this stop.
                self.ctx.logger.exception("Convergence ended with an error.")

    async def _loop(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ctx.booted.wait(), self.boot_wait_s)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), self._next_wait())
            self._wanted.clear()
            try:
                await self._once()
            except store_errors.StoreUnavailableError as error:
                # An overloaded or unreachable store is retried with backoff, as an unanswering charger
                # is; escaping, it would end this loop (no retries, no drift checks while connected).
                self._failed(f"the store is unavailable ({error})")

    def _next_wait(self) -> float:
        if self._first_wait_s is not None:
            wait, self._first_wait_s = self._first_wait_s, None
            return wait
        if self.failures:
            return RETRY_BACKOFF_S[min(self.failures, len(RETRY_BACKOFF_S)) - 1]
        return drift_wait(self.drift_interval_s)

    async def _once(self) -> None:
        ctx = self.ctx
        observed, self._observed = self._observed, None  # fresh from the connect on the first run only
        desired = await ctx.store.get_desired(ctx.charge_point_id)
        ctx.set_desired(desired)
        if desired is None or not desired.desired.managed:
            self.converged.set()
            return  # an unknown charger (development switch) or an unmanaged one is left as it is
        if observed is None:
            observed = await ctx.store.get_observed(ctx.charge_point_id)
        try:
            outcome = await converge.converge(self.dialect, desired, observed, now=ctx.now())
        except GatewayError as error:
            self._failed(str(error))
            await ctx.store.update_observed(
                ctx.charge_point_id, {"last_error": str(error), "last_error_at": ctx.now()}, now=ctx.now()
            )
            return
        await ctx.store.update_observed(
            ctx.charge_point_id, outcome.changes, replace=converge.REPLACED_FIELDS, now=ctx.now()
        )
        if outcome.drift:
            ctx.logger.warning("Drift repaired: %s.", ", ".join(outcome.drift))
        if outcome.unanswered:
            self.failures += 1
            metrics.CONVERGENCES.labels("failed").inc()
            ctx.logger.warning(
                "Converged to revision %s but for %s, which got no answer (attempt %s).",
                desired.desired.revision,
                ", ".join(outcome.unanswered),
                self.failures,
            )
            return
        self.failures = 0
        metrics.CONVERGENCES.labels("converged").inc()
        ctx.logger.info("Converged to revision %s.", desired.desired.revision)
        if not self._wanted.is_set():
            self.converged.set()

    def _failed(self, cause: str) -> None:
        self.failures += 1
        metrics.CONVERGENCES.labels("failed").inc()
        self.ctx.logger.warning("Convergence failed (attempt %s): %s", self.failures, cause)

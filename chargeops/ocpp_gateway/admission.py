"""Whether this gateway takes on one more charger now, or asks it to come back later.

A charger that connects brings work at once — its boot, a convergence (GetConfiguration,
ChangeConfiguration, SendLocalList) and the writes they cause — on top of the chargers already held. At
50,000 chargers on two cores (``bench/gateway_load.py``, run 8) three gateways took connections faster
than they could serve them: their event loops fell behind, PostgreSQL transactions sat "idle in
transaction" for up to 2 min 25 s between two statements while holding row locks, other writes queued
behind those locks until the pools ran dry, and in 7 minutes 45,574 handshakes were answered 503 and
38,225 convergences failed: congestion collapse, with the store not down but starved.

The event loop's lag says that this process is behind, whatever the cause (its own CPU, the machine's,
answers arriving faster than they are taken up), and every message waits that long before its own work
starts. While ``LAG_OVER`` of the last ``LAG_WINDOW`` samples (``metrics.sample_event_loop_lag``) are later
than the limit, a new connection is answered 503 with a Retry-After of its own (``return_times``), so that
the chargers sent away come back one after another rather than as one wave. Chargers already connected are served
as before: closing them would only turn their reconnects into more load. An episode is logged when it
begins and when it ends, not once per refusal, which at thousands a minute would add to the load.
"""

import collections
import logging

# Samples of the event loop's lag (half a second apart) looked at, and how many of them over the limit mean
# overloaded: one late sample is a pause (a garbage collection, a burst of arrivals), and turning chargers
# away for it would only delay them; two in two seconds is a loop that is not keeping up.
LAG_WINDOW = 4
LAG_OVER = 2

log = logging.getLogger(__name__)


class Admission:
    """The event loop's recent lag against a limit; ``None`` admits every charger."""

    def __init__(self, lag_limit_s: float | None) -> None:
        self.lag_limit_s = lag_limit_s
        self._recent: collections.deque[float] = collections.deque(maxlen=LAG_WINDOW)
        self._refused = 0

    @property
    def overloaded(self) -> bool:
        """Whether a new charger is to be asked to come back later."""
        limit = self.lag_limit_s
        return limit is not None and sum(lag > limit for lag in self._recent) >= LAG_OVER

    def observe_lag(self, lag_s: float) -> None:
        """Take one sample of how late the event loop ran a timer."""
        was_overloaded = self.overloaded
        self._recent.append(lag_s)
        if self.overloaded and not was_overloaded:
            log.warning(
                "Overloaded: the event loop ran %.3f s late (limit %.3f s); new chargers are answered 503 "
                "with Retry-After until it catches up. Connected chargers are served as before.",
                lag_s,
                self.lag_limit_s,
            )
        elif was_overloaded and not self.overloaded:
            log.info("Caught up: new chargers are admitted again (%d asked to come back later).", self._refused)
            self._refused = 0

    def refuse(self) -> None:
        """Count one charger sent away, for the line that ends the episode."""
        self._refused += 1

"""When a charger answered 503 is to come back, so that the refused return one after another.

A Retry-After that is the same for every refused charger (or drawn from one small range) brings them back
together: in a reconnect storm of 10,000 chargers told "when the password queue has drained", each was
refused 11 times, and each refusal is a handshake's work for a gateway that is short of exactly that.
``ReturnTimes`` gives each refused charger its own time, ``spacing_s`` after the previous one's.

The spacing is ``AdmissionPace``: how many chargers this gateway admitted a second while it was turning
others away, which is when that count is its capacity rather than its demand. One schedule serves every
503 (the password queue full, the gateway overloaded, the store too slow to answer a login: ``server``);
each refusal says only how soon is too soon. Paced by the password threads' uncontended rate instead,
three replicas sharing two cores sent chargers back ten times faster than they let them in, and most were
refused again.

A return time is given once and kept, so a pace measured low in a storm's first seconds sends chargers
far out: at 50,000 chargers on three replicas a third of both cores was idle ten minutes in. A floor of
20 a second was tried against that and did worse (3,428 back after 7 minutes against about 8,000): the
chargers sent back sooner crowded the event loops until handshakes were dropped unanswered, and a charger
whose handshake is dropped gets no return time at all.
"""

# Return times remembered before the past ones are swept out.
_RETURNS_KEPT = 1_024
# Admissions are counted over windows this long: a second is too short to smooth a garbage collection or a
# burst of arrivals out of the count.
WINDOW_S = 10.0
# Chargers admitted a second before any window with refusals has been counted: one scrypt per charger (a
# restarted gateway without a shared password key remembers no verified password) on one core at 50 ms
# each. The first counted window replaces it, lower or higher (see the module docstring for why no floor).
FIRST_GUESS_PER_S = 20.0
# A window without refusals that admitted this share of the pace raises the pace by ``PROBE``.
KEPT_UP = 0.9
PROBE = 1.25


class ReturnTimes:
    """When each refused charger is to come back: one after another, ``spacing_s`` apart.

    A charger asking again before its time (it ignored Retry-After, or retried on another error) is
    given the same time, not a later one, so impatience neither jumps the line nor pushes it back.
    """

    def __init__(self) -> None:
        self._next = 0.0  # the first free time, time.monotonic()
        self._given: dict[str, float] = {}
        self._prune_above = _RETURNS_KEPT

    def time_for(self, cp_id: str, *, now: float, earliest: float, spacing_s: float) -> float:
        """The time (``time.monotonic()``) ``cp_id`` is to come back, not before ``earliest``."""
        given = self._given.get(cp_id)
        if given is not None and given > now:
            return given
        back_at = max(earliest, self._next)
        self._next = back_at + spacing_s
        self._given[cp_id] = back_at
        if len(self._given) > self._prune_above:
            self._prune(now)
        return back_at

    def _prune(self, now: float) -> None:
        self._given = {cp_id: at for cp_id, at in self._given.items() if at > now}
        # Pruned again only once it has doubled: a sweep costs less than the refusals between two.
        self._prune_above = max(_RETURNS_KEPT, 2 * len(self._given))


class AdmissionPace:
    """Chargers admitted a second while others were refused: the best ``WINDOW_S`` window of those seen.

    A window without a refusal says how many came, not how many the gateway could take, and counts only
    when about as many were admitted as the pace sends back (``KEPT_UP``): every charger sent back was
    let in, so the pace is raised (``PROBE``) to find out whether more would be. The best, not the latest,
    is kept: in a window where the refused come back too slowly the gateway admits fewer than it could,
    and a pace that followed it down would send the next ones back slower still.
    """

    def __init__(self, *, first_guess_per_s: float = FIRST_GUESS_PER_S, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._best_per_s: float | None = None
        self._first_guess_per_s = first_guess_per_s
        self._window_start: float | None = None
        self._admitted = 0
        self._refused = False

    @property
    def per_s(self) -> float:
        """Chargers a second the refused are sent back at."""
        return self._first_guess_per_s if self._best_per_s is None else self._best_per_s

    def admitted(self, now: float) -> None:
        """Count one charger let in at ``now`` (``time.monotonic()``)."""
        self._roll(now)
        self._admitted += 1

    def refused(self, now: float) -> None:
        """Note that a charger was turned away at ``now``: the window counts."""
        self._roll(now)
        self._refused = True

    def _roll(self, now: float) -> None:
        start = self._window_start
        if start is not None and now < start + self.window_s:
            return
        if start is not None and self._admitted:
            # Every one counted was admitted within the window, however long after it the next event came.
            self._count(self._admitted / self.window_s)
        self._window_start = now
        self._admitted = 0
        self._refused = False

    def _count(self, admitted_per_s: float) -> None:
        if not self._refused:
            if admitted_per_s < KEPT_UP * self.per_s:
                return  # how many came, not how many could have been let in
            admitted_per_s = PROBE * self.per_s
        best = self._best_per_s
        self._best_per_s = admitted_per_s if best is None else max(admitted_per_s, best)

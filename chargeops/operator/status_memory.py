"""The Charger statuses this operator process wrote lately, newer than what its watch has delivered yet.

Under load the watch runs seconds behind the operator's own writes. A timer tick that computed status from
the watched one (``inventory.status_of``) then saw its own last write missing: it wrote the same
conditions again with new ``lastTransitionTime``s, and posted their Events again — at 1,000 Chargers,
one status write in three and half the Events were such repeats (``bench/operator_convergence.py``).
So the Charger handlers remember every status they hand kopf to write, and read it back until the watch
shows it, or ``TRUST_S`` passes. Only this operator writes a Charger's status (one active replica), so
its own last write is the newest there is; a write that failed is forgotten after ``TRUST_S`` and made
again from the watched status.
"""

import time
from collections.abc import Callable, Mapping
from typing import Any

# How long a written status is preferred to the watched one at most: longer than the watch lags under load
# (more than 15 s at 1,000 Chargers on two busy cores), short enough that a write the API server refused is
# made again within minutes.
TRUST_S = 120.0


def merged(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` after a JSON merge patch (RFC 7386): what the API server stores."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping):
            previous = result.get(key)
            result[key] = merged(previous if isinstance(previous, Mapping) else {}, value)
        else:
            result[key] = value
    return result


class WrittenStatuses:
    """By Charger uid: the status last handed to kopf to write, and when."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._written: dict[str, tuple[dict[str, Any], float]] = {}

    def remember(self, uid: str | None, before: Mapping[str, Any], patch: Mapping[str, Any] | None) -> None:
        """``patch`` (a status merge patch) is about to be written over ``before``; nothing when it is empty."""
        if uid is None or not patch:
            return
        self._written[uid] = (merged(before, patch), self._clock())

    def newest(self, uid: str | None, watched: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """The written status while the watch has not shown it (and ``TRUST_S`` has not passed); else
        ``watched``."""
        if uid is None or uid not in self._written:
            return watched
        status, at = self._written[uid]
        if watched == status or self._clock() - at > TRUST_S:
            del self._written[uid]
            return watched
        return status

    def forget(self, uid: str | None) -> None:
        """Drop what is remembered of a Charger that is gone."""
        if uid is not None:
            self._written.pop(uid, None)

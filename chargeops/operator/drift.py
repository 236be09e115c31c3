"""A Charger's ``status.drift`` from the gateway's observed state, and the Events its changes deserve.

The gateway finds drift (a live charger that moved away from a desired state it had held) and repairs it
on its own; the operator only shows when, and what. Called by ``charger_status.write``; pure.
"""

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from chargeops.api.gateway import ObservedState
from chargeops.api.v1alpha1 import conditions as c


@dataclasses.dataclass(frozen=True)
class Event:
    """An Event to post about the Charger: type (Normal or Warning), reason and message."""

    type: str
    reason: str
    message: str


def report(observed: ObservedState) -> dict[str, Any] | None:
    """``status.drift`` (camelCase, every key present so a merge patch clears stale ones); None before any
    drift was found."""
    if observed.drift_detected_at is None:
        return None
    return {
        "lastDetectedTime": stamp(observed.drift_detected_at),
        "lastRepairedTime": stamp(observed.drift_repaired_at),
        "differences": list(observed.drift) or None,
    }


def events(previous: Mapping[str, Any] | None, current: Mapping[str, Any] | None) -> list[Event]:
    """The Events for going from ``previous`` to ``current`` ``status.drift``: one per new detection and
    one per new repair."""
    if current is None:
        return []
    before = previous or {}
    differences = ", ".join(current.get("differences") or [])
    found: list[Event] = []
    if current.get("lastDetectedTime") != before.get("lastDetectedTime"):
        what = f": {differences}" if differences else ""
        found.append(Event("Warning", c.DRIFT_DETECTED, f"The live charger differed from its desired state{what}."))
    repaired = current.get("lastRepairedTime")
    if repaired is not None and repaired != before.get("lastRepairedTime"):
        what = f" ({differences})" if differences else ""
        found.append(Event("Normal", c.DRIFT_REPAIRED, f"The gateway brought the live charger back{what}."))
    return found


def stamp(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC to the second, as every time in status is written."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

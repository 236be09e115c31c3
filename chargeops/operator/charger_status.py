"""Write a Charger's status from its plan and the gateway's observed state: facts and conditions.

Called by the Charger handlers after every reconcile and timer tick. Returns the Events to post: one per
transition of Ready (``is_transition``), with the condition's reason and message (as cert-manager's
readiness controller does), and one per drift found or repaired. ``drop_unchanged`` then takes out of
the patch whatever the status already says, so a tick that found nothing new writes nothing: with 10,000
Chargers, every needless write is one more request to the API server and one more event for every
watcher.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import kopf

from chargeops.api.gateway import ObservedState
from chargeops.api.v1alpha1 import ChargingModeName, ConditionStatus
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import conditions, drift, kstatus
from chargeops.operator.drift import Event
from chargeops.operator.planning import ChargerPlan, Verdict

# Ready=False reasons of work under way: the gateway brings the charger to its desired state, or will once it
# connects. Steps between them post no Event (see ``is_transition``).
WORKING_REASONS = frozenset({c.CONVERGING, c.CHARGER_OFFLINE})
# While the charger is connected, status.lastSeen moves only in steps this long (``Connected`` says it is
# online): a connected charger talks every few minutes, and writing each message's time would write every
# Charger that often. Once it disconnects, lastSeen is exact.
LAST_SEEN_STEP = timedelta(minutes=15)


def write(
    body: Mapping[str, Any], patch: kopf.Patch, plan: ChargerPlan, observed: ObservedState, *, now: datetime
) -> list[Event]:
    """Fill ``patch.status``; return the Events its changes deserve."""
    status = patch.setdefault("status", {})
    previous = body.get("status") or {}
    converged = plan.apply and observed.applied_revision == plan.desired.revision
    previous_mode = previous.get("mode")
    status["mode"] = plan.mode.value if converged else (previous_mode or ChargingModeName.FREE.value)
    status["approvalFingerprint"] = plan.fingerprint
    # Without the unset fields: the API server prunes nulls inside list items, and kopf warns of the difference.
    pending = None if plan.pending is None else plan.pending.model_dump(mode="json", by_alias=True, exclude_none=True)
    status["pendingChanges"] = pending
    status["lastSeen"] = _last_seen(previous.get("lastSeen"), observed)
    status["vendor"] = observed.vendor
    status["model"] = observed.model
    status["firmwareVersion"] = observed.firmware_version
    status["localListVersion"] = observed.local_list_version
    status["authorizedIdTags"] = len(plan.desired.authorized_id_tags)
    drifted = drift.report(observed)
    status["drift"] = drifted
    events = drift.events(previous.get("drift"), drifted)

    for verdict in plan.verdicts:
        if verdict.type == c.APPROVED:
            _mark(body, patch, verdict, now=now)
    connected = _connected(observed)
    configured = _configured(plan, observed, converged)
    _mark(body, patch, connected, now=now)
    _mark(body, patch, configured, now=now)
    ready = _ready(plan, connected, configured)
    event = mark_ready(body, patch, ready, now=now)
    if event is not None:
        events.insert(0, event)
    # Work goes on while the live charger lacks an applicable desired state; a blocked plan is for a person.
    kstatus.show(body, patch, ready, settled=converged or not plan.apply, working_reason=c.CONVERGING, now=now)
    return events


def mark_ready(body: Mapping[str, Any], patch: kopf.Patch, ready: Verdict, *, now: datetime) -> Event | None:
    """Write ``ready`` as the Ready condition; the Event the change deserves (``is_transition``), if any."""
    before = conditions.find(body, patch, c.READY)
    _mark(body, patch, ready, now=now)
    if not is_transition(before, ready):
        return None
    return Event("Normal" if ready.ok else "Warning", ready.reason, ready.message)


def is_transition(before: Mapping[str, Any] | None, ready: Verdict) -> bool:
    """Whether going from the ``before`` Ready condition to ``ready`` deserves an Event: Ready turned True
    or False, or its reason changed; not a new message alone (an offline charger's last-seen time, a
    count of id tags), and not a step of work under way (``WORKING_REASONS``): the Reconciling condition
    shows those, and a fleet created at once would post one Event per Charger for each."""
    if before is None:
        return ready.ok or ready.reason not in WORKING_REASONS
    if (before.get("status") == ConditionStatus.TRUE) != ready.ok:
        return True
    reason = before.get("reason")
    if reason == ready.reason:
        return False
    return ready.ok or not (reason in WORKING_REASONS and ready.reason in WORKING_REASONS)


def _connected(observed: ObservedState) -> Verdict:
    if observed.connected:
        return Verdict(c.CONNECTED, True, c.CHARGER_CONNECTED, "The charger is connected to the gateway.")
    seen = f" (last seen {_time(observed.last_seen)})" if observed.last_seen else " (never seen)"
    return Verdict(
        c.CONNECTED,
        False,
        c.CHARGER_OFFLINE,
        f"Charge point {observed.charge_point_id} has no connection to the gateway{seen}; it gets its desired "
        "state when it returns.",
    )


def _configured(plan: ChargerPlan, observed: ObservedState, converged: bool) -> Verdict:
    blocker = next((v for v in plan.verdicts if not v.ok), None)
    if not plan.apply and blocker is not None:
        return Verdict(c.CONFIGURED, False, blocker.reason, "The live charger is left as it is: " + blocker.message)
    if converged:
        return Verdict(c.CONFIGURED, True, c.CONVERGED, "The live charger holds the desired state.")
    if observed.last_error:
        return Verdict(c.CONFIGURED, False, c.CONVERGENCE_FAILED, f"The gateway retries: {observed.last_error}")
    return Verdict(c.CONFIGURED, False, c.CONVERGING, "The gateway is bringing the charger to the desired state.")


def _ready(plan: ChargerPlan, connected: Verdict, configured: Verdict) -> Verdict:
    blocker = next((v for v in plan.verdicts if not v.ok), None)
    if blocker is not None:
        return Verdict(c.READY, False, blocker.reason, blocker.message)
    if not connected.ok:
        return Verdict(c.READY, False, connected.reason, connected.message)
    if not configured.ok:
        return Verdict(c.READY, False, configured.reason, configured.message)
    if plan.conflicts:
        claims = "; ".join(f"{tag} by {', '.join(names)}" for tag, names in sorted(plan.conflicts.items()))
        return Verdict(
            c.READY, False, c.ID_TAG_CONFLICT, f"Id tags claimed by several Subscriptions are refused: {claims}."
        )
    tags = len(plan.desired.authorized_id_tags)
    if plan.mode is ChargingModeName.PAY_PER_MONTH:
        return Verdict(c.READY, True, c.SUCCEEDED, f"Charging is pay-per-month for {tags} authorized id tags.")
    return Verdict(c.READY, True, c.SUCCEEDED, "Charging is free.")


def drop_unchanged(body: Mapping[str, Any], patch: kopf.Patch) -> None:
    """Take out of ``patch.status`` every field ``body``'s status already has with the same value (a
    missing field and None are the same to a merge patch); drop ``status`` when nothing is left."""
    status = patch.get("status")
    if not isinstance(status, dict):
        return
    current = body.get("status") or {}
    for key in [key for key, value in status.items() if current.get(key) == value]:
        del status[key]
    if not status:
        del patch["status"]


def _last_seen(shown: str | None, observed: ObservedState) -> str | None:
    seen = observed.last_seen
    if seen is None or not observed.connected or shown is None:
        return _time(seen)
    exact = _time(seen)
    # Times in status are RFC 3339 in UTC to the second, whose text sorts as the times do.
    stepped = str(_time(seen - LAST_SEEN_STEP)) >= shown or str(exact) < shown
    return exact if stepped else shown


def _mark(body: Mapping[str, Any], patch: kopf.Patch, verdict: Verdict, *, now: datetime) -> bool:
    mark = conditions.mark_true if verdict.ok else conditions.mark_false
    return mark(body, patch, verdict.type, verdict.reason, verdict.message, now=now)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

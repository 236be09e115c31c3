"""Status conditions, read from the object and written whole into the patch (a merge patch replaces lists).

Named like flux's ``runtime/conditions``: ``mark_true``, ``mark_false``, ``mark_unknown``, ``delete``,
``is_true``, ``get_reason``. Every write refreshes ``observedGeneration`` (on the condition and on the
status) and moves ``lastTransitionTime`` only when status, reason or message changes. Several calls in
one handler build on each other, because they read the patch before the body.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import kopf

from chargeops.api.v1alpha1 import ConditionStatus

Condition = dict[str, Any]


def current(body: Mapping[str, Any], patch: kopf.Patch) -> list[Condition]:
    """The conditions as this handler has left them so far."""
    pending = patch.get("status", {}).get("conditions")
    if pending is not None:
        return [dict(condition) for condition in pending]
    return [dict(condition) for condition in (body.get("status") or {}).get("conditions") or []]


def find(body: Mapping[str, Any], patch: kopf.Patch, condition_type: str) -> Condition | None:
    """The condition of ``condition_type``, if present."""
    return next((c for c in current(body, patch) if c.get("type") == condition_type), None)


def is_true(body: Mapping[str, Any], patch: kopf.Patch, condition_type: str) -> bool:
    """Whether the condition is present and True."""
    found = find(body, patch, condition_type)
    return found is not None and found.get("status") == ConditionStatus.TRUE


def get_reason(body: Mapping[str, Any], patch: kopf.Patch, condition_type: str) -> str | None:
    """The reason of the condition, if present."""
    found = find(body, patch, condition_type)
    return None if found is None else found.get("reason")


def mark_true(
    body: Mapping[str, Any],
    patch: kopf.Patch,
    condition_type: str,
    reason: str,
    message: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Set the condition True; return whether it changed (so callers post an Event only on changes)."""
    return _set(body, patch, condition_type, ConditionStatus.TRUE, reason=reason, message=message, now=now)


def mark_false(
    body: Mapping[str, Any],
    patch: kopf.Patch,
    condition_type: str,
    reason: str,
    message: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Set the condition False; return whether it changed."""
    return _set(body, patch, condition_type, ConditionStatus.FALSE, reason=reason, message=message, now=now)


def mark_unknown(
    body: Mapping[str, Any],
    patch: kopf.Patch,
    condition_type: str,
    reason: str,
    message: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Set the condition Unknown; return whether it changed."""
    return _set(body, patch, condition_type, ConditionStatus.UNKNOWN, reason=reason, message=message, now=now)


def delete(body: Mapping[str, Any], patch: kopf.Patch, condition_type: str) -> bool:
    """Remove the condition (Reconciling and Stalled appear only while True); return whether it was there."""
    conditions = current(body, patch)
    kept = [c for c in conditions if c.get("type") != condition_type]
    if len(kept) == len(conditions):
        return False
    _write(body, patch, kept)
    return True


def _set(
    body: Mapping[str, Any],
    patch: kopf.Patch,
    condition_type: str,
    status: ConditionStatus,
    *,
    reason: str,
    message: str,
    now: datetime | None,
) -> bool:
    generation = (body.get("metadata") or {}).get("generation")
    conditions = current(body, patch)
    previous = next((c for c in conditions if c.get("type") == condition_type), None)
    changed = previous is None or (previous.get("status"), previous.get("reason"), previous.get("message")) != (
        status.value,
        reason,
        message,
    )
    moment = previous.get("lastTransitionTime") if previous is not None and not changed else None
    if moment is None:
        moment = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    updated: Condition = {
        "type": condition_type,
        "status": status.value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": moment,
    }
    if generation is not None:
        updated["observedGeneration"] = generation
    if previous is None:
        conditions.append(updated)
    else:
        conditions[conditions.index(previous)] = updated
    _write(body, patch, conditions)
    return changed


def _write(body: Mapping[str, Any], patch: kopf.Patch, conditions: list[Condition]) -> None:
    # Ready first, then the rest in a stable order, so `kubectl get -o yaml` reads the same every time.
    conditions.sort(key=lambda c: (c.get("type") != "Ready", c.get("type", "")))
    patch.setdefault("status", {})["conditions"] = conditions
    generation = (body.get("metadata") or {}).get("generation")
    if generation is not None:
        patch["status"]["observedGeneration"] = generation

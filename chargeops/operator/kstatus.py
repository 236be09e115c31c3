"""kstatus's abnormal-true conditions beside ``Ready``: ``Reconciling`` and ``Stalled``.

kstatus (sigs.k8s.io/cli-utils) and flux read two conditions that appear only while True:
``Reconciling`` while the controller works towards the spec, ``Stalled`` while it cannot go on without a
change by a person. Every handler that writes ``Ready`` calls ``show`` with the same verdict, so the three
never disagree:

- ``Ready`` True: neither.
- ``Ready`` False for a reason in ``SPEC_ERRORS`` or ``WAITING_FOR_PERSON``: ``Stalled`` with Ready's
  reason and message (Argo CD shows a stalled approval as Suspended, other stalls as Degraded).
- ``Ready`` False while work goes on (the gateway converges the charger, or will when it returns):
  ``Reconciling`` with reason ``Converging`` or ``Progressing`` and Ready's message.
- ``Ready`` False with nothing left to do (an offline charger that already holds its desired state, a
  subscription whose start date is ahead): neither. The object is as reconciled as it can be; Ready says
  why it does not work.

A pass that cannot finish (the gateway is down) calls ``working`` before it raises for a retry.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import kopf

from chargeops.api.v1alpha1 import ConditionStatus
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import conditions
from chargeops.operator.planning import Verdict

STALLING_REASONS = c.SPEC_ERRORS | c.WAITING_FOR_PERSON
"""Ready=False reasons that only a person can resolve."""


def progress(
    ready: Verdict, *, settled: bool, working_reason: str = c.PROGRESSING
) -> tuple[Verdict | None, Verdict | None]:
    """The ``Reconciling`` and ``Stalled`` verdicts to show beside ``ready``; None for one that must be
    absent. ``settled``: nothing is left to do towards the spec, whatever Ready says."""
    if ready.ok:
        return None, None
    if ready.reason in STALLING_REASONS:
        return None, Verdict(c.STALLED, True, ready.reason, ready.message)
    if settled:
        return None, None
    return Verdict(c.RECONCILING, True, working_reason, ready.message), None


def show(
    body: Mapping[str, Any],
    patch: kopf.Patch,
    ready: Verdict,
    *,
    settled: bool,
    working_reason: str = c.PROGRESSING,
    now: datetime,
) -> None:
    """Write ``Reconciling`` and ``Stalled`` for ``ready`` into the patch (set or removed)."""
    reconciling, stalled = progress(ready, settled=settled, working_reason=working_reason)
    _show(body, patch, c.RECONCILING, reconciling, now=now)
    _show(body, patch, c.STALLED, stalled, now=now)


def follow_ready(body: Mapping[str, Any], patch: kopf.Patch, *, settled: bool, now: datetime) -> None:
    """``show`` for the Ready condition as this handler has left it (nothing when there is none)."""
    found = conditions.find(body, patch, c.READY)
    if found is not None:
        ok = found.get("status") == ConditionStatus.TRUE
        ready = Verdict(c.READY, ok, str(found.get("reason", "")), str(found.get("message", "")))
        show(body, patch, ready, settled=settled, now=now)


def working(body: Mapping[str, Any], patch: kopf.Patch, reason: str, message: str, *, now: datetime) -> None:
    """This pass could not finish and will be retried: ``Reconciling`` True, ``Stalled`` removed."""
    conditions.mark_true(body, patch, c.RECONCILING, reason, message, now=now)
    conditions.delete(body, patch, c.STALLED)


def _show(
    body: Mapping[str, Any], patch: kopf.Patch, condition_type: str, verdict: Verdict | None, *, now: datetime
) -> None:
    if verdict is None:
        conditions.delete(body, patch, condition_type)
    else:
        conditions.mark_true(body, patch, condition_type, verdict.reason, verdict.message, now=now)

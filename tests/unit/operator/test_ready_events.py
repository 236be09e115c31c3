"""Which changes of a Charger's Ready condition post an Event: Ready turning True or False, or a new reason;
not a new message alone, and not the steps of work under way (offline, converging) that Reconciling shows."""

from datetime import UTC, datetime
from typing import Any

import kopf
import pytest

from chargeops.api import v1alpha1
from chargeops.api.gateway import ObservedState
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import charger_status, planning
from chargeops.operator.planning import Verdict

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SEEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def ready(status: str, reason: str, message: str = "m") -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-11-02T08:00:00Z",
    }


@pytest.mark.parametrize(
    ("before", "after", "posted"),
    [
        (None, Verdict(c.READY, True, c.SUCCEEDED, "ok"), True),
        (None, Verdict(c.READY, False, c.CHARGER_OFFLINE, "offline"), False),
        (None, Verdict(c.READY, False, c.CONVERGING, "converging"), False),
        (None, Verdict(c.READY, False, c.SECRET_NOT_FOUND, "no secret"), True),
        (ready("False", c.CHARGER_OFFLINE), Verdict(c.READY, False, c.CONVERGING, "converging"), False),
        (ready("False", c.CONVERGING), Verdict(c.READY, True, c.SUCCEEDED, "ok"), True),
        (ready("True", c.SUCCEEDED), Verdict(c.READY, False, c.CHARGER_OFFLINE, "offline"), True),
        (ready("True", c.SUCCEEDED), Verdict(c.READY, False, c.CONVERGING, "converging"), True),
        (ready("False", c.CONVERGING), Verdict(c.READY, False, c.CONVERGENCE_FAILED, "failed"), True),
        (ready("False", c.CONVERGENCE_FAILED), Verdict(c.READY, False, c.CONVERGING, "converging"), True),
        (ready("True", c.SUCCEEDED, "2 id tags"), Verdict(c.READY, True, c.SUCCEEDED, "3 id tags"), False),
        (ready("False", c.GATEWAY_UNREACHABLE, "a"), Verdict(c.READY, False, c.GATEWAY_UNREACHABLE, "b"), False),
    ],
)
def test_an_event_only_for_a_transition(before: dict[str, Any] | None, after: Verdict, posted: bool) -> None:
    assert charger_status.is_transition(before, after) is posted


def test_an_offline_charger_whose_last_seen_time_moves_gets_a_new_message_but_no_event() -> None:
    body: dict[str, Any] = {
        "metadata": {"name": "visitor-1", "namespace": "parkside", "generation": 7, "uid": "u-1"},
        "spec": {"chargePointId": "CP-1", "siteRef": {"name": "parkside"}},
        "status": {"conditions": [ready("True", c.SUCCEEDED, "Charging is free.")]},
    }
    site = v1alpha1.Site.model_validate(
        {"metadata": {"name": "parkside"}, "spec": {"plan": "Basic", "currency": "EUR"}}
    )
    plan = planning.plan_charger(v1alpha1.Charger.model_validate(body), site=site, tariff=None, grants=[])
    offline = ObservedState(charge_point_id="CP-1", last_seen=SEEN, applied_revision=plan.desired.revision)
    first = kopf.Patch()
    events = charger_status.write(body, first, plan, offline, now=NOW)
    assert [(e.type, e.reason) for e in events] == [("Warning", c.CHARGER_OFFLINE)]

    later = kopf.Patch()
    body = {**body, "status": first["status"]}
    events = charger_status.write(body, later, plan, offline.model_copy(update={"last_seen": NOW}), now=NOW)

    message = next(x["message"] for x in later["status"]["conditions"] if x["type"] == "Ready")
    assert "09:30:00Z" in message
    assert events == []

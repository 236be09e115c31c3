"""A Charger's status from its plan and the gateway's observed state: kstatus, drift, Events."""

from datetime import UTC, datetime
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.gateway import ObservedState
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import charger_status, planning

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
DETECTED = datetime(2026, 11, 2, 9, 0, 5, 123456, tzinfo=UTC)
REPAIRED = datetime(2026, 11, 2, 9, 0, 6, tzinfo=UTC)


def document(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "visitor-1", "namespace": "parkside", "generation": 7, "uid": "u-1"},
        "spec": {"chargePointId": "CP-1", "siteRef": {"name": "parkside"}},
        "status": status,
    }


def site() -> v1alpha1.Site:
    return v1alpha1.Site.model_validate(
        {"metadata": {"name": "parkside"}, "spec": {"plan": "Basic", "currency": "EUR"}}
    )


def plan_for(body: dict[str, Any], **options: Any) -> planning.ChargerPlan:
    return planning.plan_charger(v1alpha1.Charger.model_validate(body), site=site(), tariff=None, grants=[], **options)


def observed(**facts: Any) -> ObservedState:
    return ObservedState(charge_point_id="CP-1", **facts)


def by_type(patch: kopf.Patch) -> dict[str, dict[str, Any]]:
    return {x["type"]: x for x in patch["status"]["conditions"]}


def test_a_converged_connected_charger_is_ready_with_neither_reconciling_nor_stalled() -> None:
    reconciling = {"type": "Reconciling", "status": "True", "reason": "Converging", "message": "x"}
    body = document(conditions=[{**reconciling, "lastTransitionTime": "2026-11-01T08:00:00Z"}])
    plan = plan_for(body)
    patch = kopf.Patch()
    events = charger_status.write(
        body, patch, plan, observed(connected=True, applied_revision=plan.desired.revision), now=NOW
    )
    found = by_type(patch)
    assert found["Ready"]["status"] == "True"
    assert "Reconciling" not in found
    assert "Stalled" not in found
    assert patch["status"]["observedGeneration"] == 7
    assert {x["observedGeneration"] for x in found.values()} == {7}
    assert [(e.type, e.reason) for e in events] == [("Normal", c.SUCCEEDED)]


def test_a_charger_the_gateway_still_converges_is_reconciling() -> None:
    body = document()
    plan = plan_for(body)
    patch = kopf.Patch()
    charger_status.write(body, patch, plan, observed(connected=True), now=NOW)
    found = by_type(patch)
    assert (found["Ready"]["status"], found["Ready"]["reason"]) == ("False", c.CONVERGING)
    assert (found["Reconciling"]["status"], found["Reconciling"]["reason"]) == ("True", c.CONVERGING)
    assert "Stalled" not in found


def test_an_offline_charger_that_holds_its_state_is_not_reconciling() -> None:
    body = document()
    plan = plan_for(body)
    patch = kopf.Patch()
    charger_status.write(body, patch, plan, observed(connected=False, applied_revision=plan.desired.revision), now=NOW)
    found = by_type(patch)
    assert found["Ready"]["reason"] == c.CHARGER_OFFLINE
    assert "Reconciling" not in found
    assert "Stalled" not in found


def test_a_charger_another_charger_also_names_is_stalled_naming_it() -> None:
    body = document()
    plan = plan_for(body, rivals=["annex/visitor-1"])
    patch = kopf.Patch()
    events = charger_status.write(body, patch, plan, observed(connected=True), now=NOW)
    found = by_type(patch)
    assert found["Ready"]["reason"] == c.DUPLICATE_CHARGE_POINT_ID
    assert "Charger annex/visitor-1" in found["Ready"]["message"]
    assert found["Stalled"]["reason"] == c.DUPLICATE_CHARGE_POINT_ID
    assert found["Configured"]["message"].startswith("The live charger is left as it is")
    assert [(e.type, e.reason) for e in events] == [("Warning", c.DUPLICATE_CHARGE_POINT_ID)]


def test_a_missing_secret_is_stalled_and_outranks_the_plan() -> None:
    body = document()
    plan = planning.withheld(plan_for(body), c.SECRET_NOT_FOUND, "Secret parkside/pw has no key visitor-1.")
    patch = kopf.Patch()
    charger_status.write(body, patch, plan, observed(connected=False), now=NOW)
    found = by_type(patch)
    assert (found["Ready"]["reason"], found["Ready"]["message"]) == (
        c.SECRET_NOT_FOUND,
        "Secret parkside/pw has no key visitor-1.",
    )
    assert found["Stalled"]["reason"] == c.SECRET_NOT_FOUND
    assert plan.hold
    assert not plan.apply


def test_drift_shows_when_it_was_found_and_repaired_with_one_event_each() -> None:
    body = document()
    plan = plan_for(body)
    patch = kopf.Patch()
    state = observed(
        connected=True,
        applied_revision=plan.desired.revision,
        drift=["LocalAuthListEnabled"],
        drift_detected_at=DETECTED,
        drift_repaired_at=REPAIRED,
    )
    events = charger_status.write(body, patch, plan, state, now=NOW)
    assert patch["status"]["drift"] == {
        "lastDetectedTime": "2026-11-02T09:00:05Z",
        "lastRepairedTime": "2026-11-02T09:00:06Z",
        "differences": ["LocalAuthListEnabled"],
    }
    assert [(e.type, e.reason, e.message) for e in events[1:]] == [
        ("Warning", c.DRIFT_DETECTED, "The live charger differed from its desired state: LocalAuthListEnabled."),
        ("Normal", c.DRIFT_REPAIRED, "The gateway brought the live charger back (LocalAuthListEnabled)."),
    ]
    v1alpha1.ChargerStatus.model_validate(patch["status"])


def test_drift_already_shown_posts_no_event_again() -> None:
    shown = {"lastDetectedTime": "2026-11-02T09:00:05Z", "lastRepairedTime": None, "differences": ["HeartbeatInterval"]}
    body = document(drift=shown)
    plan = plan_for(body)
    patch = kopf.Patch()
    state = observed(connected=True, drift=["HeartbeatInterval"], drift_detected_at=DETECTED)
    events = charger_status.write(body, patch, plan, state, now=NOW)
    assert patch["status"]["drift"] == shown
    assert [e.reason for e in events if e.reason in (c.DRIFT_DETECTED, c.DRIFT_REPAIRED)] == []


def test_no_drift_yet_leaves_the_field_unset() -> None:
    body = document()
    patch = kopf.Patch()
    charger_status.write(body, patch, plan_for(body), observed(connected=True), now=NOW)
    assert patch["status"]["drift"] is None


def test_an_unapproved_charger_on_a_basic_site_is_told_about_the_plan_first() -> None:
    # Approving would not help while the plan forbids pay-per-month: Ready names the plan.
    body = document()
    body["spec"]["chargingMode"] = {"payPerMonth": True, "tariffRef": {"name": "energy"}}
    plan = plan_for(body)
    patch = kopf.Patch()
    charger_status.write(body, patch, plan, observed(connected=True), now=NOW)
    found = by_type(patch)
    assert (found["Ready"]["status"], found["Ready"]["reason"]) == ("False", c.PLAN_NOT_ELIGIBLE)
    assert found["Stalled"]["reason"] == c.PLAN_NOT_ELIGIBLE
    assert (found["Approved"]["status"], found["Approved"]["reason"]) == ("False", c.AWAITING_APPROVAL)

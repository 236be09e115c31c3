"""Two Chargers naming one charge point: both hold, neither writes, and both name the other."""

from typing import Any

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import duplicates, planning
from chargeops.operator.duplicates import Claim


def charger(namespace: str, name: str, uid: str, **spec: Any) -> v1alpha1.Charger:
    return v1alpha1.Charger.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace, "uid": uid},
            "spec": {"chargePointId": "CP-1", "siteRef": {"name": "parkside"}, **spec},
        }
    )


def site() -> v1alpha1.Site:
    return v1alpha1.Site.model_validate(
        {"metadata": {"name": "parkside"}, "spec": {"plan": "Business", "currency": "EUR"}}
    )


def test_a_claim_is_read_from_metadata() -> None:
    meta = {"namespace": "annex", "name": "cp", "uid": "u-2", "deletionTimestamp": "2026-11-01T08:00:00Z"}
    assert duplicates.claim_of(meta) == Claim("annex", "cp", "u-2", deleting=True)


def test_rivals_are_the_others_sorted_by_namespace_and_name() -> None:
    me = charger("parkside", "garage-1", "u-1")
    claims = [
        Claim("zeta", "cp", "u-3", deleting=False),
        Claim("parkside", "garage-1", "u-1", deleting=False),
        Claim("annex", "cp", "u-2", deleting=False),
    ]
    assert [str(rival) for rival in duplicates.rivals(me, claims)] == ["annex/cp", "zeta/cp"]


def test_a_charger_being_deleted_is_no_rival() -> None:
    me = charger("parkside", "garage-1", "u-1")
    claims = [Claim("parkside", "garage-1", "u-1", deleting=False), Claim("annex", "cp", "u-2", deleting=True)]
    assert duplicates.rivals(me, claims) == []


def test_a_plan_with_rivals_holds_and_writes_nothing() -> None:
    plan = planning.plan_charger(
        charger("parkside", "garage-1", "u-1"), site=site(), tariff=None, grants=[], rivals=["annex/cp"]
    )
    assert plan.hold
    assert not plan.apply
    assert not plan.desired.managed
    first = plan.verdicts[0]
    assert (first.type, first.ok, first.reason) == (c.READY, False, c.DUPLICATE_CHARGE_POINT_ID)
    assert first.message == (
        "Charge point CP-1 is also named by Charger annex/cp; neither changes the live charger until all but "
        "one of them are deleted."
    )


def test_the_duplicate_outranks_a_missing_approval() -> None:
    pay_per_month = {"payPerMonth": True, "tariffRef": {"name": "energy"}}
    unapproved = charger("parkside", "garage-1", "u-1", chargingMode=pay_per_month)
    plan = planning.plan_charger(unapproved, site=site(), tariff=None, grants=[], rivals=["annex/cp"])
    assert plan.verdicts[0].reason == c.DUPLICATE_CHARGE_POINT_ID
    assert {v.reason for v in plan.verdicts} == {c.DUPLICATE_CHARGE_POINT_ID, c.AWAITING_APPROVAL}


def test_without_rivals_nothing_holds() -> None:
    plan = planning.plan_charger(charger("parkside", "garage-1", "u-1"), site=site(), tariff=None, grants=[])
    assert not plan.hold
    assert plan.apply

"""Planning a Charger: pay-per-month only when every precondition holds, with a reason when not."""

from typing import Any

import pytest

from chargeops.api import v1alpha1
from chargeops.api.gateway import AuthorizationMode
from chargeops.api.v1alpha1 import approval
from chargeops.operator import planning
from chargeops.operator.planning import Grant

FINGERPRINT = "v1-d672bb74844a2eb8"  # payPerMonth true, tariff energy-standard


def charger(*, pay_per_month: bool = True, approved: str | None = FINGERPRINT, **spec: Any) -> v1alpha1.Charger:
    annotations = {approval.ANNOTATION: approved} if approved else {}
    document = {
        "metadata": {"name": "garage-1", "namespace": "parkside", "annotations": annotations},
        "spec": {
            "chargePointId": "CP-1",
            "siteRef": {"name": "parkside"},
            "chargingMode": {"payPerMonth": pay_per_month, "tariffRef": {"name": "energy-standard"}},
            **spec,
        },
    }
    return v1alpha1.Charger.model_validate(document)


def site(plan: str = "Business", currency: str = "EUR") -> v1alpha1.Site:
    return v1alpha1.Site.model_validate(
        {"metadata": {"name": "parkside"}, "spec": {"plan": plan, "currency": currency}}
    )


def tariff(currency: str = "EUR") -> v1alpha1.Tariff:
    return v1alpha1.Tariff.model_validate(
        {
            "metadata": {"name": "energy-standard"},
            "spec": {"currency": currency, "elements": [{"priceComponents": [{"type": "ENERGY", "price": "0.3"}]}]},
        }
    )


def reasons(plan: planning.ChargerPlan) -> dict[str, str]:
    return {verdict.type: verdict.reason for verdict in plan.verdicts}


def test_approved_pay_per_month_requires_authorization_with_the_granted_tags() -> None:
    plan = planning.plan_charger(
        charger(), site=site(), tariff=tariff(), grants=[Grant("ada", ("T2", "T1")), Grant("grace", ("T3",))]
    )
    assert plan.apply
    assert plan.desired.managed
    assert plan.desired.authorization is AuthorizationMode.REQUIRED
    assert plan.desired.authorized_id_tags == ["T1", "T2", "T3"]
    assert reasons(plan) == {"Approved": "Succeeded"}


@pytest.mark.parametrize(
    ("kwargs", "reason", "words"),
    [
        ({"site": None}, "SiteNotFound", "Site parkside does not exist."),
        ({"site": site(plan="Basic")}, "PlanNotEligible", "Basic plan; pay-per-month needs Business"),
        ({"tariff": None}, "TariffNotFound", "Tariff energy-standard does not exist."),
        ({"tariff": tariff(currency="USD")}, "CurrencyMismatch", "is in USD but Site parkside bills in EUR"),
    ],
)
def test_each_missing_precondition_blocks_with_its_own_reason(kwargs: dict[str, Any], reason: str, words: str) -> None:
    arguments: dict[str, Any] = {"site": site(), "tariff": tariff(), "grants": []} | kwargs
    plan = planning.plan_charger(charger(), **arguments)
    assert not plan.apply
    assert not plan.desired.managed
    blocking = [v for v in plan.verdicts if v.type == "Ready"]
    assert blocking[0].reason == reason
    assert words in blocking[0].message


def test_missing_approval_says_the_exact_value_to_set() -> None:
    plan = planning.plan_charger(charger(approved=None), site=site(), tariff=tariff(), grants=[])
    assert not plan.apply
    [approved] = [v for v in plan.verdicts if v.type == "Approved"]
    assert approved.reason == "AwaitingApproval"
    assert f"chargeops.io/approval={FINGERPRINT}" in approved.message
    assert "chargeops approve charger/garage-1 -n parkside" in approved.message


def test_an_approval_of_another_tariff_is_stale() -> None:
    plan = planning.plan_charger(charger(approved="v1-0000000000000000"), site=site(), tariff=tariff(), grants=[])
    assert reasons(plan)["Approved"] == "ApprovalStale"
    assert not plan.apply


def test_pending_changes_show_what_approval_will_do_to_the_live_charger() -> None:
    plan = planning.plan_charger(
        charger(approved=None),
        site=site(),
        tariff=tariff(),
        grants=[],
        reported_configuration={"LocalAuthListEnabled": "false", "AuthorizeRemoteTxRequests": "true"},
    )
    assert plan.pending is not None
    changed = {change.key: (change.current, change.desired) for change in plan.pending.configuration or []}
    assert changed["LocalAuthListEnabled"] == ("false", "true")
    assert "AuthorizeRemoteTxRequests" not in changed


def test_free_charger_needs_no_approval_and_holds_no_tags() -> None:
    plan = planning.plan_charger(
        charger(pay_per_month=False, approved=None),
        site=site(plan="Basic"),
        tariff=None,
        grants=[Grant("ada", ("T1",))],
    )
    assert plan.apply
    assert plan.desired.authorization is AuthorizationMode.FREE
    assert plan.desired.authorized_id_tags == []
    assert reasons(plan) == {"Approved": "NotRequired"}


def test_a_tag_claimed_twice_goes_to_nobody_and_is_reported() -> None:
    plan = planning.plan_charger(
        charger(), site=site(), tariff=tariff(), grants=[Grant("ada", ("T1", "T2")), Grant("bob", ("T2",))]
    )
    assert plan.desired.authorized_id_tags == ["T1"]
    assert plan.conflicts == {"T2": ("ada", "bob")}


def test_revision_follows_content_only() -> None:
    first = planning.plan_charger(charger(), site=site(), tariff=tariff(), grants=[Grant("ada", ("T1",))])
    same = planning.plan_charger(charger(), site=site(), tariff=tariff(), grants=[Grant("other", ("T1",))])
    changed = planning.plan_charger(charger(), site=site(), tariff=tariff(), grants=[Grant("ada", ("T9",))])
    assert first.desired.revision == same.desired.revision != changed.desired.revision

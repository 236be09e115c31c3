"""A Subscription's phase from its answer annotations and its site's invitation settings."""

from datetime import date
from typing import Any

import pytest

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import SubscriptionPhase
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import subscriptions

TODAY = date(2026, 10, 15)
SMTP = {"host": "smtp.example.com", "fromAddress": "chargers@parkside.example"}


def site(invitations: dict[str, Any] | None) -> v1alpha1.Site:
    spec: dict[str, Any] = {"plan": "Business", "currency": "EUR"}
    if invitations is not None:
        spec["invitations"] = invitations
    return v1alpha1.Site.model_validate({"metadata": {"name": "parkside", "namespace": "ops"}, "spec": spec})


BY_EMAIL = site({"smtp": SMTP, "portalUrl": "https://p.example"})
NO_ACCEPTANCE = site({"acceptanceRequired": False})
OUT_OF_BAND = site(None)


def subscription(annotations: dict[str, str] | None = None, **spec: Any) -> v1alpha1.Subscription:
    body = {
        "siteRef": {"name": "parkside"},
        "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "idTags": ["04A2B3C4D5E6F7"],
        "chargerRefs": [{"name": "n1"}],
        "startDate": "2026-10-01",
        **spec,
    }
    metadata = {"name": "ada", "namespace": "ops", "annotations": annotations or {}}
    return v1alpha1.Subscription.model_validate({"metadata": metadata, "spec": body})


ACCEPTED = {"chargeops.io/accepted": "2026-09-28T18:04:00Z"}
DECLINED = {"chargeops.io/declined": "2026-09-28T18:04:00Z"}


@pytest.mark.parametrize("where", [BY_EMAIL, OUT_OF_BAND, None], ids=["by-email", "out-of-band", "unknown-site"])
def test_without_an_answer_it_waits_where_acceptance_is_required(where: v1alpha1.Site | None) -> None:
    phase = subscriptions.phase(subscription(), site=where, today=TODAY)

    assert (phase.phase, phase.reason) == (SubscriptionPhase.PENDING, c.AWAITING_ACCEPTANCE)
    assert not subscriptions.accepted(subscription(), site=where)


def test_a_site_that_needs_no_acceptance_makes_it_active_at_once() -> None:
    phase = subscriptions.phase(subscription(), site=NO_ACCEPTANCE, today=TODAY)

    assert phase.active
    assert subscriptions.accepted(subscription(), site=NO_ACCEPTANCE)
    assert not subscriptions.invites_by_email(NO_ACCEPTANCE)


@pytest.mark.parametrize("where", [BY_EMAIL, NO_ACCEPTANCE, OUT_OF_BAND])
def test_declined_wins_over_everything_and_is_never_billed(where: v1alpha1.Site) -> None:
    declined = subscription({**ACCEPTED, **DECLINED}, suspend=True)
    phase = subscriptions.phase(declined, site=where, today=TODAY)

    assert (phase.phase, phase.reason) == (SubscriptionPhase.DECLINED, c.DECLINED)
    assert not phase.active
    assert not subscriptions.accepted(declined, site=where)


def test_accepted_is_active_from_its_start_date() -> None:
    assert subscriptions.phase(subscription(ACCEPTED), site=BY_EMAIL, today=TODAY).active
    later = subscriptions.phase(subscription(ACCEPTED, startDate="2026-11-01"), site=BY_EMAIL, today=TODAY)
    assert (later.phase, later.reason) == (SubscriptionPhase.PENDING, c.NOT_STARTED)


def test_only_a_site_with_invitations_that_require_acceptance_sends_email() -> None:
    assert subscriptions.invites_by_email(BY_EMAIL)
    assert not subscriptions.invites_by_email(OUT_OF_BAND)
    assert not subscriptions.invites_by_email(None)

"""Which id tags a Subscription grants on which Chargers, and in which phase it is: pure.

Called by the Charger handler (to plan a charger from the subscriptions of its namespace), by the
Subscription handler (to write the subscription's own status) and by the billing pass (only accepted
subscriptions are billed). "Today" is a date in the site's time zone, so a subscription that ends on the
31st stops at local midnight, not UTC's.

The subscriber's answer is an annotation (``chargeops.io/accepted`` or ``chargeops.io/declined``), set by
``chargeops portal`` or by a person. A site whose ``spec.invitations.acceptanceRequired`` is false needs
no answer; a declined subscription never grants its tags, whatever else holds.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date

from chargeops.api.v1alpha1 import Charger, Site, Subscription, SubscriptionPhase
from chargeops.api.v1alpha1 import conditions as c
from chargeops.api.v1alpha1.subscription import ACCEPTED_ANNOTATION, DECLINED_ANNOTATION
from chargeops.operator.planning import Grant


@dataclasses.dataclass(frozen=True)
class Phase:
    """A subscription's phase and the Ready verdict that goes with it."""

    phase: SubscriptionPhase
    reason: str
    message: str

    @property
    def active(self) -> bool:
        """Whether its id tags are authorized now."""
        return self.phase is SubscriptionPhase.ACTIVE


def phase(subscription: Subscription, *, site: Site | None, today: date) -> Phase:
    """The phase of ``subscription`` of ``site`` on local date ``today``."""
    spec = subscription.spec
    if declined(subscription):
        return Phase(SubscriptionPhase.DECLINED, c.DECLINED, "The subscriber declined the invitation.")
    if spec.suspend:
        return Phase(SubscriptionPhase.SUSPENDED, c.SUSPENDED, "spec.suspend is true; its id tags are withdrawn.")
    if spec.end_date is not None and today > date.fromisoformat(spec.end_date):
        return Phase(SubscriptionPhase.ENDED, c.ENDED, f"Ended on {spec.end_date}; its id tags are withdrawn.")
    if not accepted(subscription, site=site):
        return Phase(
            SubscriptionPhase.PENDING,
            c.AWAITING_ACCEPTANCE,
            f"Waiting for {spec.subscriber.email} to accept the invitation.",
        )
    if today < date.fromisoformat(spec.start_date):
        return Phase(SubscriptionPhase.PENDING, c.NOT_STARTED, f"Starts on {spec.start_date}.")
    return Phase(SubscriptionPhase.ACTIVE, c.SUCCEEDED, "Active: its id tags are authorized.")


def accepted(subscription: Subscription, *, site: Site | None) -> bool:
    """Whether the subscriber accepted the contract, or ``site`` needs no acceptance; nobody is billed before."""
    if declined(subscription):
        return False
    return ACCEPTED_ANNOTATION in _annotations(subscription) or not acceptance_required(site)


def declined(subscription: Subscription) -> bool:
    """Whether the subscriber declined the invitation."""
    return DECLINED_ANNOTATION in _annotations(subscription)


def acceptance_required(site: Site | None) -> bool:
    """Whether subscriptions of ``site`` wait for their subscriber's answer (an unknown site: yes)."""
    invitations = site.spec.invitations if site is not None else None
    return invitations is None or invitations.acceptance_required


def invites_by_email(site: Site | None) -> bool:
    """Whether the operator emails the invitations of ``site`` (else a person records the answer)."""
    invitations = site.spec.invitations if site is not None else None
    return invitations is not None and invitations.acceptance_required


def _annotations(subscription: Subscription) -> Mapping[str, str]:
    return subscription.metadata.get("annotations") or {}


def covers(subscription: Subscription, charger: Charger) -> bool:
    """Whether ``subscription`` names ``charger`` (by name or by label selector) on the same site."""
    spec = subscription.spec
    if spec.site_ref.name != charger.spec.site_ref.name:
        return False
    name = charger.metadata.get("name")
    if spec.charger_refs is not None:
        return any(ref.name == name for ref in spec.charger_refs)
    if spec.charger_selector is not None:
        labels: Mapping[str, str] = charger.metadata.get("labels") or {}
        return all(labels.get(key) == value for key, value in spec.charger_selector.match_labels.items())
    return False


def grants(subscriptions: Iterable[Subscription], charger: Charger, *, site: Site | None, today: date) -> list[Grant]:
    """The id tags active subscriptions grant on ``charger`` (of ``site``)."""
    return [
        Grant(str(subscription.metadata.get("name")), tuple(subscription.spec.id_tags))
        for subscription in subscriptions
        if covers(subscription, charger) and phase(subscription, site=site, today=today).active
    ]

"""Which id tags a Subscription grants on which Chargers, and in which phase it is: pure.

Called by the Charger handler (to plan a charger from the subscriptions of its namespace) and by the
Subscription handler (to write the subscription's own status). "Today" is a date in the site's time
zone, so a subscription that ends on the 31st stops at local midnight, not UTC's.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date

from chargeops.api.v1alpha1 import Charger, Subscription, SubscriptionPhase
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator.planning import Grant

# Stand-in for the invitation flow of issue #6: a person (or a test) records acceptance with this
# annotation until the acceptance page does it.
ACCEPTED_ANNOTATION = "chargeops.io/accepted"


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


def phase(subscription: Subscription, *, today: date) -> Phase:
    """The phase of ``subscription`` on local date ``today``."""
    spec = subscription.spec
    if spec.suspend:
        return Phase(SubscriptionPhase.SUSPENDED, c.SUSPENDED, "spec.suspend is true; its id tags are withdrawn.")
    if spec.end_date is not None and today > date.fromisoformat(spec.end_date):
        return Phase(SubscriptionPhase.ENDED, c.ENDED, f"Ended on {spec.end_date}; its id tags are withdrawn.")
    if not accepted(subscription):
        return Phase(
            SubscriptionPhase.PENDING,
            c.AWAITING_ACCEPTANCE,
            f"Waiting for {spec.subscriber.email} to accept the invitation.",
        )
    if today < date.fromisoformat(spec.start_date):
        return Phase(SubscriptionPhase.PENDING, c.NOT_STARTED, f"Starts on {spec.start_date}.")
    return Phase(SubscriptionPhase.ACTIVE, c.SUCCEEDED, "Active: its id tags are authorized.")


def accepted(subscription: Subscription) -> bool:
    """Whether the subscriber accepted the contract; nobody is billed before."""
    return ACCEPTED_ANNOTATION in (subscription.metadata.get("annotations") or {})


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


def grants(subscriptions: Iterable[Subscription], charger: Charger, *, today: date) -> list[Grant]:
    """The id tags active subscriptions grant on ``charger``."""
    return [
        Grant(str(subscription.metadata.get("name")), tuple(subscription.spec.id_tags))
        for subscription in subscriptions
        if covers(subscription, charger) and phase(subscription, today=today).active
    ]

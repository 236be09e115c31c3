"""The invitation step of the Subscription handler: send the invitation when one is due, record the answer.

Called by ``handlers/subscriptions.py`` ``bind_subscription`` — on create, update (an answer or resend
annotation is an update), resume and its timer — not registered with kopf on its own: one handler owns
a Subscription's status, so ``Ready`` never flips between two writers. The step returns what ``Ready``
should say while the subscription waits for its answer; the handler raises ``kopf.TemporaryError``
with the step's delay after its other work. What the invitation is and when it was sent live in
``status.invitation``, written by ``operator/invitations.py`` (see there for the exactly-once rules);
this module writes only ``status.invitation.answeredAt``, through kopf's patch.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import kopf

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import conditions as c
from chargeops.api.v1alpha1.subscription import ACCEPTED_ANNOTATION, DECLINED_ANNOTATION
from chargeops.operator import runtime, subscriptions
from chargeops.operator.inventory import Inventory
from chargeops.operator.invitations import Outcome


async def invite(
    body: kopf.Body,
    memo: kopf.Memo,
    subscription: v1alpha1.Subscription,
    *,
    site: v1alpha1.Site,
    covered: Sequence[v1alpha1.Charger],
    inventory: Inventory,
    attempt: int,
    logger: Any,
) -> Outcome | None:
    """Send ``subscription``'s invitation if one is due; where it stands, for ``Ready``. None when the site
    does not invite by email, or the subscription was answered or deleted meanwhile."""
    if not subscriptions.invites_by_email(site):
        return None
    namespace = subscription.metadata.get("namespace")
    tariffs = {str(tariff.metadata.get("name")): tariff for tariff in inventory.tariffs_in(namespace)}
    outcome = await runtime.of(memo).invitations.settle(
        subscription, site=site, chargers=covered, tariffs=tariffs, attempt=attempt
    )
    if outcome is not None and outcome.sent is not None:
        kopf.event(body, type="Normal", reason=c.INVITATION_SENT, message=outcome.message)
        logger.info("Invitation sent to %s: %s.", subscription.spec.subscriber.email, outcome.sent)
    elif outcome is not None and outcome.reason == c.INVITATION_FAILED:
        logger.warning("Invitation not sent: %s", outcome.message)
    return outcome


def record_answer(body: kopf.Body, patch: kopf.Patch, subscription: v1alpha1.Subscription) -> None:
    """Copy the time of the subscriber's answer from its annotation into ``status.invitation.answeredAt``."""
    annotations = subscription.metadata.get("annotations") or {}
    value = annotations.get(DECLINED_ANNOTATION) or annotations.get(ACCEPTED_ANNOTATION)
    if value is None:
        return
    try:
        answered = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return  # a person wrote something other than a time; the annotation still counts as the answer
    if answered.tzinfo is None:
        return
    current = ((body.get("status") or {}).get("invitation") or {}).get("answeredAt")
    stamp = answered.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if current != stamp:
        patch.setdefault("status", {}).setdefault("invitation", {})["answeredAt"] = stamp

"""Recording a subscriber's answer exactly once, however often the button is pressed.

The answer is an annotation on the Subscription, written with a merge patch at the resourceVersion the
checks were made on. If anything changed the Subscription in between (the operator writing its status,
another submit of the same form, a resend), the API server refuses the patch with 409; we read the
Subscription again and check again, so of two submits one records the answer and the other finds it
answered.
"""

from datetime import datetime, tzinfo

from chargeops.api.v1alpha1 import Subscription
from chargeops.invitations import tokens
from chargeops.portal import links
from chargeops.portal.cluster import Cluster
from chargeops.portal.errors import AnswerConflictError, LinkRefusedError

# Conflicts come from status writes by the operator, a few per minute at most; five in a row means the
# Subscription is being rewritten in a loop, and the subscriber had better try again later.
MAX_ATTEMPTS = 5


async def record(
    cluster: Cluster, claims: tokens.Claims, answer: links.Answer, *, now: datetime, tz: tzinfo
) -> Subscription:
    """Record ``answer`` on the Subscription of ``claims`` if its invitation is still open; the patched
    Subscription. Raises ``LinkRefusedError`` when the link may not answer (any more)."""
    for _ in range(MAX_ATTEMPTS):
        found = await cluster.subscription(claims.namespace, claims.subscription)
        subscription = links.open_invitation(claims, found, tz=tz)
        try:
            return await cluster.annotate(
                claims.namespace,
                claims.subscription,
                key=answer.value,
                value=links.stamp(now),
                resource_version=str(subscription.metadata["resourceVersion"]),
            )
        except AnswerConflictError:
            continue
    raise LinkRefusedError(
        "Busy",
        "Your subscription is being updated right now, so your answer was not recorded. Try again in a minute.",
        status=503,
        title="Please try again",
    )

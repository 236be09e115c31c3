"""Whether a link may be used now: its signature and expiry, then the Subscription it names. Pure.

A token proves that we issued it and that it has not expired (``invitations.tokens``). Single use is
checked here against the Subscription as read: an invitation link works only while the Subscription
is the one it was issued for (same uid, not deleted and made anew), nobody has answered yet, and its
nonce is the one of the invitation last sent (a resend replaces it). An account link needs only the
same Subscription.

Every "no" is a ``LinkRefusedError`` whose status says what kind of no: 400 a damaged link, 403 a link
we did not sign as it is, 409 an invitation already answered, 410 a link that was good once.
"""

import dataclasses
import enum
from datetime import UTC, datetime, timedelta, tzinfo

from chargeops.api.v1alpha1 import Subscription
from chargeops.api.v1alpha1.subscription import ACCEPTED_ANNOTATION, DECLINED_ANNOTATION
from chargeops.invitations import tokens
from chargeops.portal.errors import LinkRefusedError

# What the subscriber reads for each way a token fails its check.
_TOKEN_REFUSALS = {
    "MalformedToken": (400, "This link is damaged"),
    "WrongPurpose": (400, "This link is for another page"),
    "InvalidSignature": (403, "This link is not valid"),
    "ExpiredToken": (410, "This link has expired"),
}
_ASK_AGAIN = "Ask the site's manager for a new invitation."


class Answer(enum.Enum):
    """A subscriber's answer to an invitation, and the annotation that records it."""

    ACCEPT = ACCEPTED_ANNOTATION
    DECLINE = DECLINED_ANNOTATION

    @property
    def past(self) -> str:
        """``accepted`` or ``declined``."""
        return "accepted" if self is Answer.ACCEPT else "declined"


# An account link is the subscriber's read-only page for the whole contract: given on acceptance, valid a year.
ACCOUNT_LINK_VALIDITY = timedelta(days=366)


def account_token(invitation: tokens.Claims, *, key: bytes, now: datetime) -> str:
    """A read-only account link for the subscription an accepted invitation named."""
    claims = dataclasses.replace(invitation, purpose=tokens.Purpose.ACCOUNT, expires=now + ACCOUNT_LINK_VALIDITY)
    return tokens.issue(claims, key=key)


def claims_of(token: str, *, key: bytes, purpose: tokens.Purpose, now: datetime) -> tokens.Claims:
    """The token's claims if we signed it for ``purpose`` and it has not expired."""
    try:
        return tokens.verify(token, key=key, purpose=purpose, now=now)
    except tokens.TokenError as error:
        status, title = _TOKEN_REFUSALS.get(error.reason, (400, "This link cannot be used"))
        advice = f" {_ASK_AGAIN}" if purpose is tokens.Purpose.INVITATION else ""
        raise LinkRefusedError(error.reason, f"{error}{advice}", status=status, title=title) from None


def same_subscription(claims: tokens.Claims, subscription: Subscription | None) -> Subscription:
    """``subscription`` if it is the very one the link was issued for (not deleted, not made anew)."""
    if subscription is None or subscription.metadata.get("uid") != claims.uid:
        raise LinkRefusedError(
            "SubscriptionGone",
            "The subscription this link was for no longer exists.",
            status=410,
            title="This link is no longer valid",
        )
    return subscription


def open_invitation(claims: tokens.Claims, subscription: Subscription | None, *, tz: tzinfo) -> Subscription:
    """``subscription`` if its invitation may still be answered with this link; times shown in ``tz``."""
    subscription = same_subscription(claims, subscription)
    given = answer_of(subscription)
    if given is not None:
        answer, when = given
        raise LinkRefusedError(
            "AlreadyAnswered",
            f"You {answer.past} this invitation on {_local(when, tz)}. An invitation is answered only once; "
            "if that was a mistake, ask the site's manager.",
            status=409,
            title=f"Already {answer.past}",
        )
    invitation = subscription.status.invitation if subscription.status else None
    if invitation is None or invitation.nonce != claims.nonce:
        raise LinkRefusedError(
            "InvitationReplaced",
            "A newer invitation was sent after this one, which replaced it. Use the link in the latest email.",
            status=410,
            title="This invitation was replaced",
        )
    return subscription


def answer_of(subscription: Subscription) -> tuple[Answer, str] | None:
    """The answer already recorded on ``subscription`` and its time as written, or None."""
    annotations = subscription.metadata.get("annotations") or {}
    for answer in Answer:
        if answer.value in annotations:
            return answer, str(annotations[answer.value])
    return None


def stamp(now: datetime) -> str:
    """``now`` as the annotations hold it: RFC 3339 in UTC to the second, e.g. ``2026-11-27T14:05:03Z``."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(when: str, tz: tzinfo) -> str:
    """An annotation's time in the site's zone; as written when it is not a time (a person typed it)."""
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return when
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(tz):%Y-%m-%d at %H:%M}"

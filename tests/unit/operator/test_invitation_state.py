"""When an invitation is due and what Ready says about the one out, read from status.invitation."""

from datetime import UTC, datetime
from typing import Any

import pytest

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import conditions as c
from chargeops.operator import invitations

NOW = datetime(2026, 9, 28, 18, 0, tzinfo=UTC)
SENT = {
    "nonce": "n1",
    "sentTo": "ada@example.com",
    "sentAt": "2026-09-28T16:04:00Z",
    "expiresAt": "2026-10-05T16:04:00Z",
}


def subscription(invitation: dict[str, Any] | None, annotations: dict[str, str] | None = None) -> v1alpha1.Subscription:
    spec = {
        "siteRef": {"name": "parkside"},
        "subscriber": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "idTags": ["04A2B3C4D5E6F7"],
        "chargerRefs": [{"name": "n1"}],
        "startDate": "2026-10-01",
    }
    body: dict[str, Any] = {"metadata": {"name": "ada", "annotations": annotations or {}}, "spec": spec}
    if invitation is not None:
        body["status"] = {"invitation": invitation}
    return v1alpha1.Subscription.model_validate(body)


@pytest.mark.parametrize(
    ("invitation", "annotations", "why"),
    [
        (None, {}, "no invitation is out"),
        ({"sentTo": "ada@example.com"}, {}, "no invitation is out"),  # the last attempt was withdrawn
        (SENT, {}, None),
        ({**SENT, "sentTo": "ada@old.example"}, {}, "spec.subscriber.email changed from ada@old.example"),
        (SENT, {"chargeops.io/resend-invitation": "1"}, "the chargeops.io/resend-invitation annotation asks for it"),
        ({**SENT, "resendRequest": "1"}, {"chargeops.io/resend-invitation": "1"}, None),
        (
            {**SENT, "resendRequest": "1"},
            {"chargeops.io/resend-invitation": "2"},
            "the chargeops.io/resend-invitation annotation asks for it",
        ),
        # Sending when the operator stopped: never sent again by itself.
        ({**SENT, "sentAt": None}, {}, None),
    ],
)
def test_an_invitation_is_due_only_when_none_is_out_or_a_person_asks(
    invitation: dict[str, Any] | None, annotations: dict[str, str], why: str | None
) -> None:
    assert invitations.due(subscription(invitation, annotations)) == why


def test_ready_says_when_and_to_whom_it_was_sent() -> None:
    outcome = invitations.standing(v1alpha1.Invitation.model_validate(SENT), now=NOW)

    assert outcome.reason == c.AWAITING_ACCEPTANCE
    assert outcome.message == "Invitation sent to ada@example.com at 2026-09-28 16:04:00 UTC; waiting for the answer."
    assert outcome.retry_s is None


def test_an_expired_link_asks_for_a_resend() -> None:
    later = datetime(2026, 10, 6, tzinfo=UTC)
    outcome = invitations.standing(v1alpha1.Invitation.model_validate(SENT), now=later)

    assert outcome.reason == c.AWAITING_ACCEPTANCE
    assert "its link expired at 2026-10-05 16:04:00 UTC" in outcome.message
    assert "chargeops.io/resend-invitation" in outcome.message


def test_an_interrupted_send_is_unknown_and_waits_for_a_person() -> None:
    outcome = invitations.standing(v1alpha1.Invitation.model_validate({**SENT, "sentAt": None}), now=NOW)

    assert outcome.reason == c.DELIVERY_UNKNOWN
    assert outcome.message.startswith("Delivery unknown")
    assert "set the chargeops.io/resend-invitation annotation to send it again" in outcome.message
    assert c.DELIVERY_UNKNOWN in c.WAITING_FOR_PERSON


def test_backoff_doubles_from_five_seconds_up_to_ten_minutes() -> None:
    assert [invitations.backoff(n) for n in range(9)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert invitations.backoff(10_000) == 600


def test_answered_is_either_annotation() -> None:
    assert invitations.answered(subscription(None, {"chargeops.io/accepted": "x"}))
    assert invitations.answered(subscription(None, {"chargeops.io/declined": "x"}))
    assert not invitations.answered(subscription(None, {"chargeops.io/resend-invitation": "x"}))
